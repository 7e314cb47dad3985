/**
 * `retrace invoke`, `retrace invocations list|show` end to end on a real SQLite store with a
 * real flows module: sync waits and reports the response (exit 0) or the failure with its
 * payload (exit 3), the async modes answer pending and the background attempts are finished by
 * any worker, --timeout and Ctrl-C leave a durable invocation behind (exit 4, 130), the same
 * --cid is the same invocation, and refusals are one line. The real `retrace` process (dist/,
 * `npm run build` first) for a call and for Ctrl-C.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { AnyFlow } from '../../src/core/flow/flow.js';
import { createEngine, type InvocationPayload, type InvocationView } from '../../src/index.js';
import { FAST, tempDir, waitFor } from '../support/temp-engine.js';
import { assertOneLineError, CliProcess, cli, ok } from './cli-support.js';

const INDEX = new URL('../../src/index.ts', import.meta.url).href;

/** Targets count their runs per key in files (the CLI and the test's engines share them), the callback logs its payloads. */
const FLOWS = `
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineFlow } from ${JSON.stringify(INDEX)};

const dir = import.meta.dirname;
const count = (key: string): number => {
  const file = join(dir, 'runs-' + key + '.log');
  appendFileSync(file, 'x');
  return readFileSync(file, 'utf8').length;
};

export const crmUpsert = defineFlow({
  name: 'crm-upsert',
  async run(ctx, input: { key: string; failures: number }) {
    return ctx.step('upsert', {
      retry: { maxAttempts: 1 },
      run: () => {
        const n = count(input.key);
        if (n <= input.failures) throw Object.assign(new Error('CRM down (run ' + n + ')'), { name: 'Unavailable' });
        return { key: input.key, n };
      },
    });
  },
});

export const crmDone = defineFlow({
  name: 'crm-done',
  async run(_ctx, payload: { call_cid: string }) {
    appendFileSync(join(dir, 'callbacks.log'), JSON.stringify(payload) + '\\n');
    return { recorded: payload.call_cid };
  },
});

export const crmSlow = defineFlow({
  name: 'crm-slow',
  async run(ctx, input: { ms: number }) {
    return ctx.step('held', async () => {
      await new Promise((resolve) => setTimeout(resolve, input.ms));
      return { held: input.ms };
    });
  },
});
`;

const dir = tempDir('retrace-cli-invoke-');
const flowsFile = join(dir, 'flows.ts');
writeFileSync(flowsFile, FLOWS);
const store = `sqlite:${join(dir, 'retrace.db')}`;
const env = { RETRACE_STORE: store };
const run = (args: string[]) => cli(['--flows', flowsFile, ...args], dir, env);
const runs = (key: string) => {
  try {
    return readFileSync(join(dir, `runs-${key}.log`), 'utf8').length;
  } catch {
    return 0;
  }
};
const callbacks = (): InvocationPayload[] => {
  try {
    return readFileSync(join(dir, 'callbacks.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as InvocationPayload);
  } catch {
    return [];
  }
};

/** A worker in this process, as `retrace worker` would be: it makes the background attempts. */
async function withWorker<T>(fn: (engine: ReturnType<typeof createEngine>) => Promise<T>): Promise<T> {
  const flows = Object.values((await import(pathToFileURL(flowsFile).href)) as Record<string, AnyFlow>);
  const engine = createEngine({ ...FAST, flows, store });
  await engine.start();
  try {
    return await fn(engine);
  } finally {
    await engine.stop();
  }
}

const children: CliProcess[] = [];
after(() => {
  for (const c of children) c.kill();
});

describe('retrace invoke', async () => {
  // The CLI opens existing stores only (migrate makes one).
  ok(await cli(['migrate', '--json'], dir, env));

  test('sync: --json answers the response once an attempt succeeds; for people, one line and the response', async () => {
    const answer = ok<{ status: string; ok: boolean; cid: string; response: unknown }>(
      await run([
        'invoke',
        'crm-upsert',
        '--input',
        '{"key":"ok","failures":1}',
        '--repeats',
        '2',
        '--seconds',
        '0',
        '--json',
      ]),
    );
    assert.equal(answer.status, 'succeeded');
    assert.equal(answer.ok, true);
    assert.deepEqual(answer.response, { key: 'ok', n: 2 });
    assert.equal(runs('ok'), 2);

    const human = await run(['invoke', 'crm-upsert', '--input', '{"key":"ok2","failures":0}', '--seconds', '0']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^Invocation \S+ of crm-upsert succeeded\n {2}response +\{"key":"ok2","n":1\}\n$/);
  });

  test('sync, every attempt failed: exit 3 with the payload (--json) or the last error (people); the callback ran once', async () => {
    const failed = await run([
      'invoke',
      'crm-upsert',
      '--input',
      '{"key":"bad","failures":9}',
      '--repeats',
      '1',
      '--seconds',
      '0',
      '--callback',
      'crm-done',
      '--context',
      '{"orderId":"A-1"}',
      '--cid',
      'bad-cid',
      '--orig-cid',
      'outer-1',
      '--json',
    ]);
    const answer = ok<{ status: string; ok: boolean; cid: string; payload: InvocationPayload }>(failed, 3);
    assert.equal(answer.status, 'failed');
    assert.equal(answer.cid, 'bad-cid');
    assert.equal(answer.payload.attempts, 2);
    assert.equal(answer.payload.source, 'cli');
    assert.equal(answer.payload.orig_cid, 'outer-1');
    assert.deepEqual(answer.payload.context, { orderId: 'A-1' });
    assert.equal(answer.payload.error?.name, 'Unavailable');
    await withWorker(() => waitFor(() => callbacks().some((p) => p.call_cid === 'bad-cid'), 10_000, 'the callback'));
    assert.equal(callbacks().filter((p) => p.call_cid === 'bad-cid').length, 1);

    const human = await run(['invoke', 'crm-upsert', '--input', '{"key":"bad2","failures":9}', '--seconds', '0']);
    assert.equal(human.code, 3, human.stderr);
    assert.match(
      human.stdout,
      /^Invocation \S+ of crm-upsert failed after 1 attempt\(s\)\n {2}error +Unavailable: CRM down \(run 1\)\n$/,
    );
    assert.match(human.stderr, /retrace invocations show/);
  });

  test('async: pending at once (exit 0); a worker makes the attempts and the callback; invocations show and list it', async () => {
    const pending = ok<{ status: string; ok: null; cid: string }>(
      await run([
        'invoke',
        'crm-upsert',
        '--input',
        '{"key":"bg","failures":1}',
        '--mode',
        'async+async',
        '--repeats',
        '1',
        '--minutes',
        '0',
        '--seconds',
        '0.05',
        '--callback',
        'crm-done',
        '--json',
      ]),
    );
    assert.deepEqual(Object.keys(pending).sort(), ['cid', 'ok', 'status']);
    assert.equal(pending.status, 'pending');
    assert.equal(runs('bg'), 0, 'nothing ran in the command: no worker there');
    await withWorker((engine) =>
      waitFor(async () => (await engine.invocations.get(pending.cid)).status === 'succeeded', 10_000, 'the end'),
    );
    assert.equal(runs('bg'), 2);

    const shown = ok<InvocationView>(await run(['invocations', 'show', pending.cid, '--json']));
    assert.equal(shown.status, 'succeeded');
    assert.equal(shown.mode, 'async');
    assert.equal(shown.retrySeconds, 0.05);
    assert.equal(shown.attempts.length, 2);
    assert.equal(typeof shown.callbackExecutionId, 'string');
    const human = await run(['invocations', 'show', pending.cid]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, new RegExp(`^Invocation ${pending.cid}  succeeded\n`));
    assert.match(human.stdout, /mode +async\n/);
    assert.match(human.stdout, /repeats +1 \(2 attempts at most\), 0\.05s apart/);
    assert.match(human.stdout, /callback +crm-done → execution \S+/);
    assert.match(
      human.stdout,
      /Attempts\n#\s+EXECUTION\s+STATUS\s+ERROR\n1\s+\S+\s+failed\s+Unavailable: CRM down \(run 1\)\n2\s+\S+\s+succeeded\n/,
    );
    assert.match(human.stdout, /Payload\n {2}\{"ok":true/);

    const attempt = await run(['executions', 'show', shown.attempts[1]!.executionId]);
    assert.match(attempt.stdout, new RegExp(`^ {2}invoked +attempt 2 of invocation ${pending.cid}$`, 'm'));
    const invocation = await run(['executions', 'show', shown.executionId]);
    assert.match(invocation.stdout, /^ {2}flow +retrace:invocation$/m);
    assert.match(invocation.stdout, /^\d\s+attempt 1 \(invoke\)\s+succeeded/m);
    assert.match(invocation.stdout, /^\d\s+wait before attempt 2 \(sleep\)\s+succeeded/m);
    const withContext = await run(['invocations', 'show', 'bad-cid']);
    assert.match(withContext.stdout, /^ {2}context +\{"orderId":"A-1"\}$/m);
    assert.match(withContext.stdout, /^ {2}orig\. cid +outer-1$/m);

    const list = ok<{ items: InvocationView[]; nextCursor: string | null }>(
      await run(['invocations', 'list', '--status', 'succeeded', '--target', 'crm-upsert', '--json']),
    );
    assert.ok(list.items.some((i) => i.cid === pending.cid));
    assert.ok(list.items.every((i) => i.status === 'succeeded' && i.target === 'crm-upsert'));
    const failures = ok<{ items: InvocationView[] }>(
      await run(['invocations', 'list', '--status', 'failed', '--json']),
    );
    assert.ok(failures.items.some((i) => i.cid === 'bad-cid'));
    assert.ok(failures.items.every((i) => i.status === 'failed'));

    const table = await run(['invocations', 'list', '--status', 'failed']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^CID\s+TARGET\s+MODE\s+STATUS\s+ATTEMPTS\s+REQUESTED\s+DURATION\s+ERROR\n/);
    assert.match(table.stdout, /bad-cid\s+crm-upsert\s+sync\s+failed\s+2\/2\s+.*Unavailable: CRM down \(run 2\)/);

    const paged = ok<{ items: InvocationView[]; nextCursor: string | null }>(
      await run(['invocations', 'list', '--limit', '1', '--json']),
    );
    assert.equal(paged.items.length, 1);
    assert.equal(typeof paged.nextCursor, 'string');
    const next = ok<{ items: InvocationView[] }>(
      await run(['invocations', 'list', '--limit', '1', '--cursor', paged.nextCursor!, '--json']),
    );
    assert.notEqual(next.items[0]?.cid, paged.items[0]?.cid);
  });

  test('sync-async: the first attempt blocks; when it fails, pending (exit 0) and the rest in the background', async () => {
    const pending = ok<{ status: string; cid: string }>(
      await run([
        'invoke',
        'crm-upsert',
        '--input',
        '{"key":"sa","failures":1}',
        '--mode',
        'sync-async',
        '--repeats',
        '1',
        // Long enough that the second attempt is due after the command has ended.
        '--seconds',
        '1.5',
        '--callback',
        'crm-done',
        '--json',
      ]),
    );
    assert.equal(pending.status, 'pending');
    assert.equal(runs('sa'), 1, 'the first attempt ran while the command waited');
    await withWorker((engine) =>
      waitFor(async () => (await engine.invocations.get(pending.cid)).status === 'succeeded', 10_000, 'the end'),
    );
  });

  test('the same --cid again is the same invocation: the target does not run again', async () => {
    const args = [
      'invoke',
      'crm-upsert',
      '--input',
      '{"key":"once","failures":0}',
      '--seconds',
      '0',
      '--cid',
      'once-cid',
      '--json',
    ];
    const first = ok<{ response: unknown }>(await run(args));
    const second = ok<{ response: unknown }>(await run(args));
    assert.deepEqual(second, first);
    assert.equal(runs('once'), 1);
  });

  test('--timeout: exit 4 with the invocation pending; it is durable and a worker ends it', async () => {
    const timedOut = await run([
      'invoke',
      'crm-slow',
      '--input',
      '{"ms":1500}',
      '--seconds',
      '0',
      '--cid',
      'slow-cid',
      '--timeout',
      '200ms',
      '--json',
    ]);
    assert.deepEqual(ok(timedOut, 4), { status: 'pending', ok: null, cid: 'slow-cid' });
    await withWorker((engine) =>
      waitFor(async () => (await engine.invocations.get('slow-cid')).status === 'succeeded', 10_000, 'the end'),
    );
  });

  test('refusals: unknown target, no flows, unknown cid, a bad --status; one line each', async () => {
    assertOneLineError(
      await run(['invoke', 'nope', '--seconds', '0']),
      1,
      /Unknown flow "nope".*\(UNKNOWN_FLOW\)$/,
      'unknown target',
    );
    assertOneLineError(
      await run(['invoke', 'crm-upsert', '--seconds', '0', '--mode', 'async', '--callback', 'nope']),
      1,
      /Unknown flow "nope".*\(UNKNOWN_FLOW\)$/,
      'unknown callback',
    );
    assertOneLineError(
      await cli(['invoke', 'crm-upsert', '--seconds', '0'], dir, env),
      1,
      /needs your flows/,
      'no flows',
    );
    assertOneLineError(
      await run(['invocations', 'show', 'no-such-cid']),
      1,
      /No invocation with cid "no-such-cid" \(INVOCATION_NOT_FOUND\)$/,
      'unknown cid',
    );
    assertOneLineError(
      await run(['invocations', 'list', '--status', 'lost']),
      2,
      /--status: unknown status "lost" \(one of pending, succeeded, failed\)/,
      'bad status',
    );
  });
});

describe('retrace invoke as a real process (dist/: npm run build first)', () => {
  test('a sync call answers the response', async () => {
    const child = new CliProcess(
      [
        '--flows',
        flowsFile,
        'invoke',
        'crm-upsert',
        '--input',
        '{"key":"proc","failures":0}',
        '--seconds',
        '0',
        '--json',
      ],
      dir,
      env,
    );
    children.push(child);
    const { code } = await child.exited;
    assert.equal(code, 0, child.stderr);
    const answer = JSON.parse(child.stdout) as { status: string; response: unknown };
    assert.equal(answer.status, 'succeeded');
    assert.deepEqual(answer.response, { key: 'proc', n: 1 });
  });

  test('Ctrl-C while a sync call waits: exit 130, the invocation left pending and durable', async () => {
    const child = new CliProcess(
      [
        '--flows',
        flowsFile,
        'invoke',
        'crm-slow',
        '--input',
        '{"ms":3000}',
        '--seconds',
        '0',
        '--cid',
        'interrupted-cid',
      ],
      dir,
      env,
    );
    children.push(child);
    await withWorker(async (engine) => {
      await waitFor(
        () =>
          engine.invocations.get('interrupted-cid').then(
            (i) => i.attempts.length > 0,
            () => false,
          ),
        30_000,
        'the invocation to start',
      );
      child.child.kill('SIGINT');
      const { code } = await child.exited;
      assert.equal(code, 130, `stdout: ${child.stdout}\nstderr: ${child.stderr}`);
      assert.match(child.stdout, /^Interrupted: invocation interrupted-cid of crm-slow is durable/);
      await waitFor(
        async () => (await engine.invocations.get('interrupted-cid')).status === 'succeeded',
        20_000,
        'the end',
      );
    });
  });
});
