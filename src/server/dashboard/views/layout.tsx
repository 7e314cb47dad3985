/**
 * The page shell: skip link, header with the main navigation and who is logged in, the main
 * landmark with the page's one h1, and a live region for notices (htmx errors). Scripts are
 * files of our own origin, loaded deferred; there is no inline script or style anywhere, so the
 * Content-Security-Policy can forbid them.
 */
import type { ComponentChildren } from 'preact';
import type { PageContext } from '../context.js';

/**
 * htmx reads its settings from this meta tag. No indicator <style> (the CSP forbids inline
 * styles; ours are in dashboard.css), no eval, no <script> run from swapped HTML, and no page
 * snapshots in localStorage (they would keep what a logged-out user saw): the back button
 * reloads the page instead.
 */
export const HTMX_CONFIG = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  allowScriptTags: false,
  historyCacheSize: 0,
  refreshOnHistoryMiss: true,
  selfRequestsOnly: true,
});

export function Layout(props: { ctx: PageContext; title: string; children: ComponentChildren }) {
  const { ctx } = props;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <meta name="htmx-config" content={HTMX_CONFIG} />
        <title>{`${props.title} · Retrace`}</title>
        <link rel="stylesheet" href={ctx.assets.css} />
        {ctx.assets.scripts.map((src) => (
          <script src={src} defer />
        ))}
      </head>
      <body hx-headers={JSON.stringify({ 'X-CSRF-Token': ctx.csrfToken })}>
        <a class="skip-link" href="#main">
          Skip to main content
        </a>
        <header class="site-header">
          <a class="brand" href="/">
            Retrace
          </a>
          {ctx.nav.length > 0 && (
            <nav aria-label="Main">
              <ul class="nav-list">
                {ctx.nav.map((item) => (
                  <li>
                    <a href={item.href} aria-current={isCurrent(ctx.path, item.href) ? 'page' : undefined}>
                      {item.label}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
          )}
          <Who ctx={ctx} />
        </header>
        <main id="main" tabindex={-1}>
          <h1>{props.title}</h1>
          {props.children}
        </main>
        <div id="notice" class="notice" role="status" aria-live="polite" />
      </body>
    </html>
  );
}

function isCurrent(path: string, href: string): boolean {
  return href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`);
}

function Who({ ctx }: { ctx: PageContext }) {
  if (ctx.auth === 'none') return <p class="who">Local development: no login</p>;
  if (!ctx.principal) return null;
  return (
    <div class="who">
      <span>
        Logged in as <strong>{ctx.principal.name}</strong> ({[...ctx.principal.scopes].join(', ')})
      </span>
      <form method="post" action="/logout">
        <CsrfField ctx={ctx} />
        <button type="submit" class="button-quiet">
          Log out
        </button>
      </form>
    </div>
  );
}

/** The hidden field every form that changes something carries. */
export function CsrfField({ ctx }: { ctx: PageContext }) {
  return <input type="hidden" name="_csrf" value={ctx.csrfToken} />;
}
