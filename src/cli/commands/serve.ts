/**
 * `retrace serve` and `retrace dev`: the engine and the HTTP server (webhooks, GraphQL, health,
 * metrics) in one process. `serve` is for production: it refuses to start without an API key
 * in the store (or an explicit --insecure). `dev` is for a laptop: it binds 127.0.0.1 and needs
 * no keys there; bound to any other address it asks for keys like `serve`.
 *
 * On SIGTERM or Ctrl-C: the server stops accepting and gives in-flight requests up to
 * --stop-timeout (a `?wait` webhook answers 202 at once), then the engine lets running steps
 * finish (up to --stop-timeout again) and releases the rest; exit 0.
 *
 * Without API keys (`dev` on loopback, or --insecure on loopback) the server answers only
 * requests whose Host is localhost/127.x/[::1], so a web page cannot reach it by DNS rebinding.
 *
 * Webhooks are no more open than the API: with API keys, an instance's webhook accepts only
 * signed deliveries (its webhookSecret) unless its flow declares `webhook: { open: true }` or
 * --allow-open-webhooks is given; without keys (`dev` on loopback, --insecure) they are open.
 */
import type { Command } from 'commander';
import type { Engine } from '../../index.js';
import type { RetraceServer } from '../../server/server.js';
import { CliError, EXIT } from '../cli-error.js';
import type { Wrap } from '../command.js';
import { printSettings } from '../config/show.js';
import { DEFAULT_HOST, DEFAULT_PORT } from '../config/spec.js';
import type { CliContext } from '../context.js';
import {
  addPrintConfig,
  addProcessOptions,
  describeProcess,
  logLine,
  openProcessEngine,
  type ProcessFlags,
  seconds,
} from '../long-running.js';
import { parseCount } from '../parse.js';

type ServeFlags = ProcessFlags & {
  insecure?: boolean;
  maxBody?: string;
  logRequests?: boolean;
  allowOpenWebhooks?: boolean;
};

type Mode = 'serve' | 'dev';

export function registerServe(program: Command, wrap: Wrap): void {
  for (const mode of ['serve', 'dev'] as const) {
    const cmd = program
      .command(mode)
      .argument('[flows]', 'module exporting your flows (default: --flows, or the flows in retrace.config.ts)')
      .description(
        mode === 'serve'
          ? 'Run the engine and the HTTP API (webhooks, GraphQL, metrics) for production; needs an API key'
          : 'Run the engine and the HTTP API on this machine for development, without API keys',
      )
      .option(
        '--insecure',
        mode === 'serve'
          ? 'start without API keys: anyone who reaches the port may read and run everything'
          : 'on a non-loopback --host, start without API keys anyway',
      )
      .option(
        '--allow-open-webhooks',
        mode === 'serve'
          ? 'accept unsigned webhook deliveries to instances without a webhookSecret (default: only flows declaring webhook: { open: true })'
          : 'on a non-loopback --host with API keys, accept unsigned webhook deliveries (on loopback they are accepted anyway)',
      )
      .option('--max-body <bytes>', 'largest webhook body accepted, in bytes (default 1 MiB)')
      .option('--log-requests', 'log every HTTP request (JSON lines on stdout)');
    addProcessOptions(cmd, [mode]);
    addPrintConfig(cmd);
    cmd.addHelpText(
      'after',
      mode === 'serve'
        ? `
Examples:
  retrace keys create ops --scope admin          # once: serve needs a key
  retrace serve ./src/flows.ts --port 8080
  DATABASE_URL=postgres://retrace@db/app RETRACE_ENCRYPTION_KEY=… retrace serve ./src/flows.ts

Every option is also RETRACE_<NAME> in the environment and <name> in retrace.config.ts (the
store: RETRACE_STORE, else DATABASE_URL; the port: RETRACE_PORT, else PORT; the encryption key:
RETRACE_ENCRYPTION_KEY). A flag wins over the environment, which wins over the config file;
--print-config (or retrace config) shows the result.`
        : `
Examples:
  retrace dev ./src/flows.ts                     # http://127.0.0.1:4000, SQLite in .retrace/
  retrace dev ./src/flows.ts --recover-delay 5s --print-config
  curl -X POST localhost:4000/webhooks/flow/<flow> -H 'content-type: application/json' -d '{…}'`,
    );
    cmd.action(wrap<ServeFlags>((ctx, flags, [flowsModule]) => serve(ctx, mode, flags, flowsModule)));
  }
}

async function serve(ctx: CliContext, mode: Mode, flags: ServeFlags, flowsModule: string | undefined): Promise<number> {
  ctx.useFlowsModule(flowsModule);
  ctx.useProcess(mode, flags);
  // Every flag and setting is checked before anything is opened: a bad one starts nothing.
  const settings = await ctx.settings();
  if (flags.printConfig) {
    await printSettings(ctx, false);
    return EXIT.ok;
  }
  const port = settings.get('port') ?? DEFAULT_PORT;
  const host = settings.get('host') ?? DEFAULT_HOST[mode];
  const maxBodyBytes = flags.maxBody !== undefined ? parseCount(flags.maxBody, '--max-body') : undefined;
  const local = isLoopback(host);
  const auth = flags.insecure || (mode === 'dev' && local) ? 'none' : 'api-keys';

  if (auth === 'api-keys') await assertHasKey(ctx, mode, host);
  // The HTTP server (fastify, GraphQL) is loaded only by the commands that serve, before the
  // engine opens so that nothing is left to stop if it cannot load.
  const { createServer } = await import('../../server/server.js');
  const engine = await openProcessEngine(ctx);
  let server: RetraceServer | undefined;
  let url: string;
  try {
    server = await createServer({
      engine,
      host,
      port,
      auth,
      // An explicit --insecure off loopback already accepts anyone who reaches the port.
      allowAnyHost: auth === 'none' && !local,
      // Without keys anyone may run flows anyway, so webhooks are open too; with keys, an
      // instance's webhook needs its webhookSecret, an open flow, or this explicit flag.
      openWebhooks: auth === 'none' || flags.allowOpenWebhooks === true,
      ...(maxBodyBytes ? { maxBodyBytes } : {}),
      logger: flags.logRequests === true,
    });
    ({ url } = await server.listen());
  } catch (error) {
    await server?.close().catch(() => undefined);
    await engine.stop();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new CliError(`Port ${port} on ${host} is in use: pass --port (0 for any free port)`);
    if (code === 'EADDRNOTAVAIL') throw new CliError(`Cannot bind ${host}: no such address on this machine (--host)`);
    throw error;
  }

  const stopMs = engine.options.stopTimeoutMs;
  ctx.stopNotice = `Stopping: no new requests; in-flight requests get up to ${seconds(stopMs)}, then running steps get up to ${seconds(stopMs)} (signal again to quit at once)…`;
  if (engine.workerId) {
    logLine(ctx, `retrace ${mode} worker ${engine.workerId} started: ${await describeProcess(ctx, engine)}`);
  } else {
    const from = settings.setting('worker')?.from;
    logLine(
      ctx,
      `retrace ${mode} started without a worker (worker: false from ${from}): store ${await ctx.storeLabel()}`,
    );
  }
  logLine(ctx, `retrace ${mode} listening on ${url} (${authText(auth, local)})`);
  if (auth === 'none' && !local) ctx.out.warn(`No API keys and ${host} is reachable from other machines (--insecure)`);
  logLine(ctx, `retrace ${mode} webhooks: ${webhooksText(auth, flags.allowOpenWebhooks === true)}`);
  if (mode === 'dev') {
    ctx.out.line(`  GraphQL   ${url}/graphql`);
    ctx.out.line(`  Webhooks  ${url}/webhooks/flow/<flow>  (${engine.flowNames.join(', ')})`);
  }

  await ctx.whenInterrupted;
  await shutdown(ctx, mode, server, engine, stopMs);
  return EXIT.ok;
}

/**
 * Server first (stop accepting; `?wait`s answer 202; other requests get up to the stop deadline,
 * then their connections are cut), then the engine: both bounded, so the engine always gets to
 * stop before an orchestrator's kill.
 */
async function shutdown(
  ctx: CliContext,
  mode: Mode,
  server: RetraceServer,
  engine: Engine,
  stopMs: number,
): Promise<void> {
  logLine(ctx, `retrace ${mode} stopping: closing the HTTP server`);
  try {
    await server.close({ timeoutMs: stopMs });
  } finally {
    logLine(ctx, `retrace ${mode} stopping: stopping the engine`);
    await engine.stop();
  }
  logLine(ctx, `retrace ${mode} stopped`);
}

/** `serve` (and `dev` off localhost) refuses to open an API nobody is meant to reach without a key. */
async function assertHasKey(ctx: CliContext, mode: Mode, host: string): Promise<void> {
  const keys = await ctx.withEngine({ flows: false, worker: false, create: true }, (engine) => engine.apiKeys.list());
  if (keys.some((k) => k.revokedAt === null)) return;
  const why =
    mode === 'serve'
      ? 'retrace serve needs an API key'
      : `retrace dev on ${host} (not this machine only) needs an API key`;
  throw new CliError(
    `No API key in the store (${await ctx.storeLabel()}): ${why}. Create one with \`retrace keys create <name> --scope admin\`, or pass --insecure to run without keys`,
  );
}

function webhooksText(auth: 'api-keys' | 'none', allowOpen: boolean): string {
  if (auth === 'none') return 'open (no API keys)';
  if (allowOpen) return 'open (--allow-open-webhooks): unsigned deliveries start flows';
  return 'signed (webhookSecret) or flows declaring webhook: { open: true } only (--allow-open-webhooks to accept any)';
}

function authText(auth: 'api-keys' | 'none', local: boolean): string {
  if (auth === 'api-keys') return 'API keys required';
  return local ? 'no API keys: this machine only' : 'no API keys';
}

/** 127.0.0.0/8, ::1 and localhost: only this machine can connect. */
export function isLoopback(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1';
}
