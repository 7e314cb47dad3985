/**
 * Every engine option from retrace.config.ts, the environment (RETRACE_<NAME>) and the flags of
 * dev/serve/worker, in that order of precedence reversed (flag > environment > file > default);
 * `retrace config` shows each value and where it came from; a bad value names the option and
 * its source; and the options reach the engine (a small --max-payload-bytes refuses a large
 * webhook input with PAYLOAD_TOO_LARGE).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { tempDir } from '../support/temp-engine.js';
import { assertOneLineError, BIN, CliProcess, childEnv, cli, ENCRYPTION_KEY, ok, writeFlows } from './cli-support.js';

const root = tempDir('retrace-cli-config-');
const flows = writeFlows(root);
const children: CliProcess[] = [];
after(() => {
  for (const c of children) c.kill();
});

interface Shown {
  value: unknown;
  resolved: unknown;
  source: string;
  from: string;
}
interface Report {
  command: string;
  configFile: string | null;
  options: Record<string, Shown>;
}

let projects = 0;
/**
 * A project folder of its own with this retrace.config.ts: the tests run the CLI in this
 * process, where a module once imported stays cached, so each config is a new file.
 */
function project(config: string): { dir: string; file: string } {
  const dir = join(root, `p${++projects}`);
  mkdirSync(dir);
  const file = join(dir, 'retrace.config.ts');
  writeFileSync(file, config);
  return { dir, file };
}

const CONFIG = `export const recoverDelay = '2m';\nexport const retry = { maxAttempts: 5, delay: '2s' };\n`;

describe('retrace config', () => {
  test('shows the options a config file sets, with the file as their source, and the defaults of the others', async () => {
    const { dir, file } = project(CONFIG);
    const report = ok<Report>(await cli(['config', '--json'], dir));
    assert.equal(report.command, 'retrace serve');
    assert.equal(report.configFile, file);
    assert.deepEqual(report.options.recoverDelay, { value: '2m', resolved: 120_000, source: 'config', from: file });
    assert.deepEqual(report.options.retry, {
      value: { maxAttempts: 5, delay: '2s' },
      resolved: { maxAttempts: 5, delayMs: 2000, backoff: 2, maxDelayMs: 300_000, jitter: true },
      source: 'config',
      from: file,
    });
    assert.deepEqual(report.options.lease, { value: null, resolved: 30_000, source: 'default', from: 'default' });
    assert.equal(report.options.host?.resolved, '0.0.0.0');
    assert.equal(report.options.port?.resolved, 4000);

    const table = await cli(['config'], dir);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`^recoverDelay +2m +config ${reEscape(file)}$`, 'm'));
    assert.match(table.stdout, /^retry +maxAttempts 5, delay 2s, backoff 2, maxDelay 5m, jitter true +config /m);
    assert.match(table.stdout, /^lease +30s +default$/m);
  });

  test('an environment variable wins over the file, a flag over the variable', async () => {
    const { dir, file } = project(CONFIG);
    const env = { RETRACE_RECOVER_DELAY: '5m', RETRACE_LEASE: '1m' };
    const byEnv = ok<Report>(await cli(['config', '--json'], dir, env));
    assert.deepEqual(byEnv.options.recoverDelay, {
      value: '5m',
      resolved: 300_000,
      source: 'env',
      from: 'RETRACE_RECOVER_DELAY',
    });
    assert.equal(byEnv.options.retry?.from, file, 'what the environment does not set stays the file’s');

    const byFlag = ok<Report>(await cli(['config', '--recover-delay', '10s', '--json'], dir, env));
    assert.deepEqual(byFlag.options.recoverDelay, {
      value: '10s',
      resolved: 10_000,
      source: 'flag',
      from: '--recover-delay',
    });
    assert.equal(byFlag.options.lease?.source, 'env');
    // sweepInterval is at most lease / 3: what the engine will use is shown, not only what was asked.
    const capped = ok<Report>(await cli(['config', '--for', 'worker', '--sweep-interval', '1h', '--json'], dir, env));
    assert.equal(capped.command, 'retrace worker');
    assert.deepEqual(capped.options.sweepInterval, {
      value: '1h',
      resolved: 20_000,
      source: 'flag',
      from: '--sweep-interval',
    });
    assert.equal(capped.options.port, undefined, 'a worker has no port');

    // The process commands resolve the same way: --print-config shows it and starts nothing.
    const printed = await cli(['worker', flows, '--print-config', '--recover-delay', '45s'], dir, env);
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(printed.stdout, /^Options of retrace worker; config file: /);
    assert.match(printed.stdout, /^recoverDelay +45s +flag --recover-delay$/m);
    assert.match(printed.stdout, /^lease +1m +env RETRACE_LEASE$/m);
    assert.match(printed.stdout, /^flows +\S+flows\.ts +argument$/m);
    assert.equal(existsSync(join(dir, '.retrace')), false, '--print-config opens no store');
  });

  test('the store and the servers’ settings follow the same rule, and secrets are never shown', async () => {
    const { dir, file } = project(
      `export const store = 'postgres://retrace:hunter2@db.example/app?password=hunter3';\nexport const port = 8080;\nexport const encryptionKey = ${JSON.stringify(ENCRYPTION_KEY)};\n`,
    );
    const fromFile = ok<Report>(await cli(['config', '--json'], dir));
    assert.equal(fromFile.options.store?.from, file);
    assert.equal(fromFile.options.store?.resolved, 'postgres://retrace:***@db.example/app?password=***');
    assert.deepEqual(fromFile.options.encryptionKey, { value: '***', resolved: '***', source: 'config', from: file });
    const table = await cli(['config'], dir);
    for (const secret of ['hunter2', 'hunter3', ENCRYPTION_KEY]) {
      assert.equal(JSON.stringify(fromFile).includes(secret), false, `${secret} in --json`);
      assert.equal(table.stdout.includes(secret), false, `${secret} in the table`);
    }
    assert.match(table.stdout, /^encryptionKey +\(set\) +config /m);

    const env = { RETRACE_STORE: 'sqlite:./other.db', RETRACE_PORT: '9090', PORT: '7070' };
    const fromEnv = ok<Report>(await cli(['config', '--json'], dir, env));
    assert.equal(fromEnv.options.store?.from, 'RETRACE_STORE');
    assert.deepEqual(fromEnv.options.port, { value: 9090, resolved: 9090, source: 'env', from: 'RETRACE_PORT' });
    // PORT is a platform's variable for any program: below the file.
    const platform = ok<Report>(await cli(['config', '--json'], dir, { PORT: '7070' }));
    assert.equal(platform.options.port?.from, file);
    const dev = ok<Report>(
      await cli(['--store', 'sqlite:./flag.db', 'config', '--for', 'dev', '--port', '0', '--json'], dir, env),
    );
    assert.deepEqual(dev.options.port, { value: 0, resolved: 0, source: 'flag', from: '--port' });
    assert.equal(dev.options.store?.from, '--store');
    assert.equal(dev.options.host?.resolved, '127.0.0.1');
  });

  test('a name the config file exports that is no option is reported with the option it may mean', async () => {
    // A flow the config exports by name (defined or re-exported there) is no typo: not reported.
    const { dir, file } = project(
      `export { greet } from ${JSON.stringify(flows)};\nexport const recoverDealy = '2m';\nexport const flows = [];\n`,
    );
    const run = await cli(['config', '--json'], dir);
    const report = ok<Report>(run);
    assert.equal(report.options.recoverDelay?.source, 'default');
    assert.equal(run.stderr, `warning: ${file}: recoverDealy is not an option, ignored (did you mean recoverDelay?)\n`);
  });
});

describe('bad values name the option and where it came from', () => {
  test('in the config file: the file and the option, exit 1, for every command', async () => {
    const cases: [string, RegExp][] = [
      [
        `export const recoverDelay = 'soon';`,
        /: recoverDelay must be a duration such as "2m" or a number of ms \(got "soon"\)$/,
      ],
      [`export const retry = { maxAttempts: 0 };`, /: retry\.maxAttempts must be a whole number >= 1, got 0$/],
      [`export const retry = { maxAtempts: 2 };`, /: retry has no field "maxAtempts" \(it takes maxAttempts, /],
      [`export const lease = '50ms';`, /: lease must be a duration of at least 100ms such as "2m" .*\(got "50ms"\)$/],
      [`export const maxPayloadBytes = 1.5;`, /: maxPayloadBytes must be a whole number of bytes >= 1 \(got 1\.5\)$/],
      [
        `export const defaultErrorPolicy = 'ignore';`,
        /: defaultErrorPolicy must be "retry" or "fatal" \(got "ignore"\)$/,
      ],
      [`export const durability = 'fast';`, /: durability must be "full" or "normal" \(got "fast"\)$/],
      [`export const flowConcurrency = { greet: 0 };`, /: flowConcurrency\.greet must be a whole number >= 1, got 0$/],
      [`export const workerId = 'w1';`, /: workerId cannot be set in a config file: it names one process/],
      [`export const encryptionKey = 'short';`, /: encryptionKey must be 32 bytes written as base64 or 64 hex digits/],
    ];
    for (const [config, pattern] of cases) {
      const { dir, file } = project(`${config}\n`);
      for (const args of [['config'], ['worker', flows], ['executions', 'list']]) {
        const run = await cli(args, dir);
        assertOneLineError(run, 1, new RegExp(`^error: ${reEscape(file)}${pattern.source}`), `${config} / ${args[0]}`);
      }
      assert.equal(existsSync(join(dir, '.retrace')), false, 'nothing was opened');
    }
    // A secret is never echoed back, even when it is wrong.
    const { dir } = project(`export const encryptionKey = 'not-a-key-but-secret';\n`);
    assert.equal((await cli(['config'], dir)).stderr.includes('not-a-key-but-secret'), false);
  });

  test('in the environment: the variable, exit 2; as a flag: the flag, exit 2; nothing is started', async () => {
    const { dir } = project(CONFIG);
    const store = { RETRACE_STORE: `sqlite:${join(dir, 'never.db')}` };
    const envCases: [Record<string, string>, RegExp][] = [
      [
        { RETRACE_RECOVER_DELAY: 'soon' },
        /^error: RETRACE_RECOVER_DELAY must be a duration with a unit such as "30s", "500ms" or "2m" \(got "soon"\)$/,
      ],
      // A bare number would be milliseconds to the engine and seconds to --wait: a unit is required.
      [{ RETRACE_LEASE: '30000' }, /^error: RETRACE_LEASE must be a duration of at least 100ms with a unit/],
      [{ RETRACE_MAX_PAYLOAD_BYTES: '1e6' }, /^error: RETRACE_MAX_PAYLOAD_BYTES must be a whole number of bytes >= 1/],
      [{ RETRACE_CONCURRENCY: '0' }, /^error: RETRACE_CONCURRENCY must be a whole number from 1 to 10000 \(got "0"\)$/],
      [{ RETRACE_DEFAULT_ERROR_POLICY: 'Fatal' }, /^error: RETRACE_DEFAULT_ERROR_POLICY must be "retry" or "fatal"/],
      [{ RETRACE_MIGRATE: 'maybe' }, /^error: RETRACE_MIGRATE must be true or false/],
      [{ RETRACE_ENCRYPTION_KEY: 'short-secret' }, /^error: RETRACE_ENCRYPTION_KEY must be 32 bytes[^"]*$/],
    ];
    for (const [env, pattern] of envCases) {
      assertOneLineError(await cli(['config'], dir, env), 2, pattern, JSON.stringify(env));
      assertOneLineError(
        await cli(['worker', flows], dir, { ...store, ...env }),
        2,
        pattern,
        `worker ${JSON.stringify(env)}`,
      );
    }
    const flagCases: [string[], RegExp][] = [
      [['--recover-delay', 'soon'], /^error: --recover-delay takes a duration with a unit .*, got "soon"$/],
      [['--poll-interval', '100'], /^error: --poll-interval takes a duration of at most 596h with a unit/],
      [['--in-memory-retry-max', '30d'], /^error: --in-memory-retry-max takes a duration of at most 596h/],
      [['--max-payload-bytes', '0'], /^error: --max-payload-bytes takes a whole number of bytes >= 1, got "0"$/],
      [['--default-error-policy', 'never'], /^error: --default-error-policy takes "retry" or "fatal", got "never"$/],
      [['--durability', 'off'], /^error: --durability takes "full" or "normal", got "off"$/],
      [['--worker-id', ' '], /^error: --worker-id takes a worker id, got " "$/],
    ];
    for (const [flag, pattern] of flagCases) {
      // The flag wins over a good variable, and is checked like it.
      const env = { ...store, RETRACE_RECOVER_DELAY: '1m' };
      assertOneLineError(await cli(['worker', flows, ...flag], dir, env), 2, pattern, flag.join(' '));
      assertOneLineError(await cli(['dev', flows, ...flag], dir, env), 2, pattern, `dev ${flag.join(' ')}`);
    }
    assertOneLineError(
      await cli(['config', '--for', 'worker', '--port', '1'], dir),
      2,
      /^error: --port does not apply to retrace worker$/,
      '--port on a worker',
    );
    assert.equal(existsSync(join(dir, 'never.db')), false, 'no store was made');
  });
});

describe('the options reach the engine', () => {
  test('retrace dev --max-payload-bytes: a webhook input over it is refused with PAYLOAD_TOO_LARGE, one under it runs', async () => {
    const dir = join(root, 'e2e');
    mkdirSync(dir);
    const server = new CliProcess(['dev', flows, '--port', '0', '--max-payload-bytes', '300'], dir, {
      RETRACE_STORE: `sqlite:${join(dir, 'dev.db')}`,
    });
    children.push(server);
    const [, url] = await server.waitFor(/listening on (http:\/\/\S+) /);
    const post = async (name: string) => {
      const res = await fetch(`${url}/webhooks/flow/greet?wait=30s`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name }),
      });
      return { status: res.status, body: (await res.json()) as { error?: { code: string }; output?: unknown } };
    };
    const big = await post('x'.repeat(400));
    assert.equal(big.status, 413, JSON.stringify(big.body));
    assert.equal(big.body.error?.code, 'PAYLOAD_TOO_LARGE');
    const small = await post('Ada');
    assert.equal(small.status, 200, JSON.stringify(small.body));
    assert.deepEqual(small.body.output, { text: 'Hello, Ada', instance: 'default', tokenLength: 0 });
    server.child.kill('SIGTERM');
    assert.equal((await server.exited).code, 0, server.stderr);
  });

  test('serve --no-worker (worker: false) answers webhooks and leaves the executions queued for workers', async () => {
    const dir = join(root, 'no-worker');
    mkdirSync(dir);
    const env = { RETRACE_STORE: `sqlite:${join(dir, 'api.db')}` };
    const server = new CliProcess(['dev', flows, '--port', '0', '--no-worker'], dir, env);
    children.push(server);
    const [, url] = await server.waitFor(/listening on (http:\/\/\S+) /);
    assert.match(server.stdout, /retrace dev started without a worker \(worker: false from --no-worker\)/);
    const res = await fetch(`${url}/webhooks/flow/greet`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Ada' }),
    });
    assert.equal(res.status, 202);
    const { executionId } = (await res.json()) as { executionId: string };
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const shown = ok<{ status: string }>(await cli(['executions', 'show', executionId, '--json'], dir, env));
    assert.equal(shown.status, 'queued', 'no worker ran it');
    server.child.kill('SIGTERM');
    assert.equal((await server.exited).code, 0, server.stderr);
  });

  test('the file and the environment shape the short commands too: retrace run refuses the same input', async () => {
    const { dir } = project(`export const maxPayloadBytes = 200;\nexport const store = 'sqlite:./run.db';\n`);
    assert.equal((await cli(['migrate'], dir)).code, 0);
    const input = JSON.stringify({ name: 'x'.repeat(250) });
    const byFile = await cli(['run', 'greet', '--flows', flows, '--input', input], dir);
    assertOneLineError(byFile, 1, /over the 200-byte payload limit \(PAYLOAD_TOO_LARGE\)$/, 'limit from the file');
    const byEnv = await cli(['run', 'greet', '--flows', flows, '--input', input], dir, {
      RETRACE_MAX_PAYLOAD_BYTES: '1000',
    });
    assert.equal(byEnv.code, 0, `the variable raised the limit: ${byEnv.stderr}`);
  });

  test('the real bin/retrace.js prints the report too', async () => {
    const { dir, file } = project(CONFIG);
    const child = spawn(process.execPath, [BIN, 'config', '--for', 'worker', '--json'], {
      cwd: dir,
      env: childEnv({ RETRACE_RECOVER_DELAY: '3m' }),
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 0);
    const report = JSON.parse(stdout) as Report;
    assert.equal(report.options.recoverDelay?.from, 'RETRACE_RECOVER_DELAY');
    assert.equal(report.options.retry?.from, file);
  });
});

function reEscape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
