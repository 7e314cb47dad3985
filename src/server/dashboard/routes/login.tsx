/**
 * GET/POST /login and POST /logout. A login checks the pasted API key with
 * `engine.apiKeys.verify` and sets the signed session cookie (auth/session.ts); without API keys
 * (`retrace dev` on loopback) there is nothing to log in to and /login leads home.
 */
import { cookie, SESSION_COOKIE } from '../auth/session.js';
import { pageContext } from '../context.js';
import type { DashboardPage } from '../page.js';
import { sendPage } from '../render.js';
import { localPath } from '../urls.js';
import { LoginPage } from '../views/login.js';

type Form = Record<string, string | string[] | undefined>;
const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

export function loginPage(signer: import('../auth/session.js').SessionSigner): DashboardPage {
  return {
    async register(app, { engine, options }) {
      const secure = (protocol: string) =>
        options.secureCookies === 'when-https' ? protocol === 'https' : options.secureCookies;

      app.get('/login', { config: { dashboard: { public: true } } }, async (request, reply) => {
        const next = localPath((request.query as Form).next);
        const ctx = pageContext(request);
        if (ctx.auth === 'none' || ctx.principal) return reply.code(303).header('location', next).send();
        return sendPage(reply, <LoginPage ctx={ctx} next={next} />);
      });

      app.post('/login', { config: { dashboard: { public: true } } }, async (request, reply) => {
        const form = (request.body ?? {}) as Form;
        const next = localPath(first(form.next));
        const ctx = pageContext(request);
        if (ctx.auth === 'none') return reply.code(303).header('location', next).send();
        const secret = first(form.key)?.trim() ?? '';
        const key = secret === '' ? undefined : await engine.apiKeys.verify(secret);
        if (!key) {
          const error = secret === '' ? 'Paste an API key.' : 'That API key is unknown or has been revoked.';
          return sendPage(reply, <LoginPage ctx={ctx} next={next} error={error} />, 401);
        }
        const session = signer.newSession(Date.now(), options.sessionMaxAgeMs, key.id);
        return reply
          .code(303)
          .header(
            'set-cookie',
            cookie(SESSION_COOKIE, signer.sign(session), {
              maxAgeMs: options.sessionMaxAgeMs,
              secure: secure(request.protocol),
            }),
          )
          .header('location', next)
          .send();
      });

      app.post('/logout', { config: { dashboard: { public: true } } }, async (request, reply) =>
        reply
          .code(303)
          .header('set-cookie', cookie(SESSION_COOKIE, '', { maxAgeMs: 0, secure: secure(request.protocol) }))
          .header('location', '/login')
          .send(),
      );
    },
  };
}
