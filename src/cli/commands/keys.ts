/**
 * `retrace keys create|list|revoke`: the API keys `retrace serve` asks for. A key's secret is
 * printed once, by `create`, and cannot be shown again (only its hash is stored). Scopes nest:
 * admin includes operate, operate includes read.
 */
import type { Command } from 'commander';
import type { ApiKeyScope, ApiKeyView } from '../../index.js';
import { UsageError } from '../cli-error.js';
import { addJsonOption, type Wrap } from '../command.js';
import { formatTime, type Output } from '../output.js';
import { collect } from '../parse.js';

const SCOPES: readonly ApiKeyScope[] = ['read', 'operate', 'admin'];

export function registerKeys(program: Command, wrap: Wrap): void {
  const keys = program.command('keys').description('API keys for the HTTP API: create, list, revoke');

  const create = keys
    .command('create')
    .argument('<name>', 'a unique name; audit records carry it as the actor')
    .description('Create an API key and print its secret (once: it cannot be shown again)')
    .requiredOption(
      '--scope <scope>',
      'read (queries), operate (also run, replay, cancel) or admin (also instances and keys); repeatable',
      collect,
    );
  addJsonOption(create);
  create.addHelpText(
    'after',
    `
Examples:
  retrace keys create ci --scope operate
  retrace keys create dashboard --scope read --json | jq -r .secret

Use it as: Authorization: Bearer <secret>. Creates the store if there is none yet, so a key can
be made before the first \`retrace serve\`.`,
  );
  create.action(
    wrap<{ scope: string[]; json?: boolean }>(async (ctx, flags, [name]) => {
      const scopes = parseScopes(flags.scope);
      const { key, secret } = await ctx.withEngine({ flows: false, worker: false, create: true }, (engine) =>
        engine.apiKeys.create({ name: name!, scopes }),
      );
      const out = ctx.out;
      if (flags.json) {
        out.json({ ...key, secret });
      } else {
        out.note(`Created API key "${key.name}" (${key.id}) with scope ${key.scopes.join(', ')}. Its secret:`);
        out.line(secret);
      }
      out.warn('This is the only time the secret is shown; it cannot be shown again. Store it now.');
      return 0;
    }),
  );

  const list = keys.command('list').alias('ls').description('API keys (never their secrets)');
  addJsonOption(list);
  list.action(
    wrap<{ json?: boolean }>(async (ctx, flags) => {
      const views = await ctx.withEngine({ flows: false, worker: false }, (engine) => engine.apiKeys.list());
      if (flags.json) ctx.out.json(views);
      else if (views.length === 0) ctx.out.line('No API keys. Create one: retrace keys create <name> --scope admin');
      else printTable(ctx.out, views);
      return 0;
    }),
  );

  const revoke = keys
    .command('revoke')
    .argument('<key>', 'the key, by id or name')
    .description('Revoke an API key: requests with it get 401 from then on');
  addJsonOption(revoke);
  revoke.action(
    wrap<{ json?: boolean }>(async (ctx, flags, [idOrName]) => {
      const view = await ctx.withEngine({ flows: false, worker: false }, (engine) => engine.apiKeys.revoke(idOrName!));
      if (flags.json) ctx.out.json(view);
      else ctx.out.line(`Revoked API key "${view.name}" (${view.id}).`);
      return 0;
    }),
  );
}

/** `--scope admin`, `--scope read --scope operate` or `--scope read,operate`; checked before the store is opened. */
function parseScopes(values: readonly string[]): ApiKeyScope[] {
  const out: ApiKeyScope[] = [];
  for (const raw of values.flatMap((v) => v.split(','))) {
    const s = raw.trim();
    if (s === '') continue;
    if (!(SCOPES as readonly string[]).includes(s)) {
      throw new UsageError(`--scope: unknown scope ${JSON.stringify(s)} (one of ${SCOPES.join(', ')})`);
    }
    if (!out.includes(s as ApiKeyScope)) out.push(s as ApiKeyScope);
  }
  if (out.length === 0) throw new UsageError(`--scope needs one of ${SCOPES.join(', ')}`);
  return out;
}

function printTable(out: Output, views: ApiKeyView[]): void {
  out.table(
    ['ID', 'NAME', 'SCOPES', 'PREFIX', 'CREATED', 'LAST USED', 'REVOKED'],
    views.map((k) => [
      k.id,
      k.name,
      k.scopes.join(','),
      `rt_${k.prefix}_…`,
      formatTime(k.createdAt),
      formatTime(k.lastUsedAt),
      k.revokedAt ? out.c.red(formatTime(k.revokedAt)) : '-',
    ]),
  );
}
