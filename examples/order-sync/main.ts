/**
 * The Retrace demo: `npm run demo`.
 *
 * Starts a fake Acme (shop + ERP over HTTP) and a Retrace engine on a fresh SQLite store in
 * `.retrace/demo.db` under the working directory, then syncs four orders, one story each:
 *
 *   1. a normal order (and its webhook delivered twice: one execution, not two)
 *   2. an order arriving while Acme is down: fetch-order retries until Acme is back
 *   3. an order with bad data: map-to-erp fails with BadOrder, declared fatal, at once
 *   4. an order whose ERP reply is lost after the ERP created it: validate finds the record,
 *      so the non-idempotent POST is not sent twice
 *   5. Acme fixes the bad order; the failed execution of story 3 is replayed, succeeds, and
 *      the diff of the original and the replay shows what changed
 *
 * Then it reads everything back from the store and shows what Retrace recorded. It exits 0
 * when every story ended as it should and 1 otherwise, so CI can run it as a test.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { createEngine, ExecutionFailedError, type StepView } from '../../src/index.js';
import { type AcmeApi, startAcmeApi } from './acme-api.js';
import { acmeClient } from './acme-client.js';
import { checkOutcome } from './checks.js';
import { diffTables } from './diff-table.js';
import { defineOrderSyncFlow, type OrderCreatedEvent } from './order-sync-flow.js';
import { type Cell, indentedJson, print, style, table } from './terminal.js';

const DEMO_TIMEOUT_MS = 30_000;
const startedAt = performance.now();

// A stuck demo must fail CI rather than hang it; unref'd so it never keeps a finished demo alive.
setTimeout(() => {
  process.stderr.write(`The demo did not finish within ${DEMO_TIMEOUT_MS / 1000} s; giving up.\n`);
  process.exit(2);
}, DEMO_TIMEOUT_MS).unref();

const storePath = resolve('.retrace', 'demo.db');
for (const suffix of ['', '-wal', '-shm']) rmSync(storePath + suffix, { force: true });

const acme = await startAcmeApi();
const flow = defineOrderSyncFlow(acmeClient(acme.url));
const engine = createEngine({
  flows: [flow],
  store: `sqlite:${storePath}`,
  concurrency: 4,
  lease: '5s',
  pollInterval: '50ms',
  recoverDelay: '200ms',
});

/** What each story started, for the checks at the end. */
interface Story {
  orderId: string;
  event: OrderCreatedEvent;
  executionId: string;
}
const stories = new Map<string, Story>();
const problems: string[] = [];
const expect = (ok: boolean, what: string) => {
  if (!ok) problems.push(what);
};

/** The order with bad data (story 3), and what Acme's support corrects on it (story 5). */
const BAD_ORDER = { orderId: 'A-1003', sku: 'MUG-BLK', line: 2, quantity: 1 };

let exitCode = 1;
try {
  await engine.start();
  narrateSteps();

  print(style.bold('Retrace demo: syncing Acme shop orders into the ERP'));
  print(`  store  ${relative(process.cwd(), storePath) || storePath} ${style.dim('(fresh SQLite file)')}`);
  print(`  acme   ${acme.url} ${style.dim('(fake shop + ERP over HTTP)')}`);
  print(`  flow   order-sync: fetch-order → map-to-erp → push-to-erp → mark-exported`);

  chapter(1, 'A normal order');
  const first = await syncOrder('A-1001');
  const again = await engine.run('order-sync', first.event, { idempotencyKey: first.event.webhookId });
  print(`  ${style.cyan('→')} Acme delivers the same webhook again`);
  print(
    again.created
      ? `  ${style.red(`✗ run() started a second execution ${again.id}`)}`
      : `  ${style.green('✓')} run() returns the same execution ${short(again.id)} ${style.dim('(idempotency key = webhook id)')}`,
  );
  expect(!again.created && again.id === first.executionId, 'a redelivered webhook must not start a second execution');

  chapter(2, 'Acme goes down while an order comes in');
  acme.goDown();
  print(`  ${style.red('▼ Acme is down:')} every request now gets 503 Service Unavailable`);
  await syncOrder('A-1002');

  chapter(3, 'An order with bad data');
  await syncOrder(BAD_ORDER.orderId);

  chapter(4, 'The ERP creates the order, but its reply is lost');
  acme.loseNextErpReply();
  print(`  ${style.dim('The next POST /erp/orders will create its record and then drop the connection.')}`);
  await syncOrder('A-1004');

  const failedId = stories.get(BAD_ORDER.orderId)?.executionId ?? '';
  await showFailed(failedId);

  chapter(5, 'Acme fixes the order, and the failed execution is replayed');
  const replayId = await fixAndReplay(failedId);

  await report(acme, replayId);
  exitCode = problems.length === 0 ? 0 : 1;
} catch (err) {
  print();
  print(style.red(`The demo broke: ${(err as Error)?.stack ?? err}`));
  problems.push('the demo stopped with the error above');
} finally {
  await engine.stop();
  await acme.close();
}

print();
if (exitCode === 0) {
  print(style.green(`✓ Every order ended as expected (${((performance.now() - startedAt) / 1000).toFixed(1)} s).`));
} else {
  print(style.red('✗ The demo did not end as expected:'));
  for (const p of problems) print(style.red(`  - ${p}`));
}
process.exitCode = exitCode;

// ---------------------------------------------------------------------------------------------

function chapter(n: number, title: string): void {
  print();
  print(style.bold(`${n}. ${title}`));
}

function webhook(orderId: string): OrderCreatedEvent {
  return {
    event: 'order.created',
    shop: 'acme-eu',
    orderId,
    webhookId: randomUUID(),
    receivedAt: new Date().toISOString(),
  };
}

/** Starts one execution as Acme's webhook would, and waits for its end. */
async function syncOrder(orderId: string): Promise<Story> {
  const event = webhook(orderId);
  const handle = await engine.run('order-sync', event, {
    // Webhooks are delivered at least once: the same delivery must not sync the order twice.
    idempotencyKey: event.webhookId,
    correlationId: event.webhookId,
    trigger: 'webhook',
    tags: ['demo'],
  });
  const story = { orderId, event, executionId: handle.id };
  stories.set(orderId, story);
  print(`  ${style.cyan('→')} order.created ${orderId}  ${style.dim(`execution ${handle.id}`)}`);
  try {
    const output = await handle.result({ timeoutMs: 15_000 });
    print(`  ${style.green('✓ succeeded:')} ${output.orderId} is ${style.bold(output.erpId)} in the ERP`);
  } catch (err) {
    if (!(err instanceof ExecutionFailedError)) throw err;
    print(`  ${style.red('✗ failed')} in step ${err.error.step}: ${err.error.name}`);
  }
  return story;
}

/** Prints each step's progress as the engine reports it (events fire after the store write). */
function narrateSteps(): void {
  const pad = (step: string) => step.padEnd(13);
  engine.on('step:succeeded', (e) => {
    print(`    ${style.green('✓')} ${pad(e.step)} ${style.dim(`attempt ${e.attempt}, ${e.durationMs} ms`)}`);
  });
  engine.on('step:retrying', (e) => {
    print(`    ${style.yellow('✗')} ${pad(e.step)} attempt ${e.attempt}: ${e.error.name}: ${e.error.message}`);
    print(`      ${style.dim(`next attempt in ${e.delayMs} ms`)}`);
    // The outage ends while the third retry is pending: "after a moment", in demo time.
    if (acme.isDown && e.step === 'fetch-order' && e.attempt === 3) {
      setTimeout(() => {
        acme.comeBack();
        print(`  ${style.green('▲ Acme is back up')} ${style.dim(`(it refused ${acme.stats.refused} requests)`)}`);
      }, 100);
    }
  });
  engine.on('step:validated', (e) => {
    const verdict =
      e.outcome === 'complete'
        ? 'already there: step complete, no second POST'
        : e.outcome === 'retry'
          ? 'not there: will post again'
          : 'validation reported an error';
    print(`    ${style.cyan('?')} ${pad(e.step)} validate asked the ERP → ${verdict}`);
  });
  engine.on('step:failed', (e) => {
    const declared = flow.errors[e.error.name];
    const why = declared === 'fatal' ? `${e.error.name} is declared fatal: no retry` : 'out of attempts';
    print(`    ${style.red('✗')} ${pad(e.step)} attempt ${e.attempt}: ${e.error.name}: ${e.error.message}`);
    print(`      ${style.dim(why)}`);
  });
  engine.on('engine:error', (e) => {
    print(style.red(`  engine error (${e.context}): ${e.error.message}`));
  });
}

// ---------------------------------------------------------------------------------------------

/** Story 5: Acme's support corrects the order, then the failed execution is replayed as it was. */
async function fixAndReplay(failedId: string): Promise<string> {
  const { orderId, sku, line, quantity } = BAD_ORDER;
  const before = acme.order(orderId)?.lines.find((l) => l.sku === sku)?.quantity;
  acme.setLineQuantity(orderId, sku, quantity);
  print(
    `  ${style.cyan('✎')} Acme's support corrects ${orderId} in the shop: line ${line} (${sku}) quantity ${before} → ${quantity}`,
  );

  // A whole replay: the same flow and the exact stored input. The order is read from Acme
  // again (fetch-order is a repeatable read), so this time it is the corrected one.
  const reason = `Acme corrected the quantity of ${sku} on ${orderId}`;
  print(`  ${style.cyan('→')} engine.replay('${short(failedId)}', { reason: '${reason}' })`);
  const handle = await engine.replay(failedId, { reason, actor: 'demo' });
  print(`    ${style.dim(`replay ${handle.id}: a new execution; the original stays as it was recorded`)}`);
  try {
    // A replay is looked up by id, so its handle does not know the flow's output type.
    const output = (await handle.result({ timeoutMs: 15_000 })) as { orderId: string; erpId: string };
    print(`  ${style.green('✓ replay succeeded:')} ${output.orderId} is ${style.bold(output.erpId)} in the ERP`);
  } catch (err) {
    if (!(err instanceof ExecutionFailedError)) throw err;
    print(`  ${style.red('✗ replay failed')} in step ${err.error.step}: ${err.error.name}`);
  }

  const unresolved = await engine.executions.list({ flow: 'order-sync', status: 'failed', resolved: false });
  const list = unresolved.items.map((e) => e.id).join(', ') || '(none: the replay resolved the failure)';
  print(`  engine.executions.list({ status: 'failed', resolved: false }) → ${list}`);

  print();
  print(style.bold('What the replay changed: engine.executions.diff(original, replay)'));
  for (const row of diffTables(await engine.executions.diff(failedId, handle.id))) print(row);
  const store = relative(process.cwd(), storePath) || storePath;
  print(`  ${style.dim(`from the command line: retrace executions diff ${failedId} ${handle.id} --store ${store}`)}`);
  return handle.id;
}

async function report(api: AcmeApi, replayId: string): Promise<void> {
  // Everything below is read back from the store, not remembered from the run.
  const list = await engine.executions.list({ flow: 'order-sync', order: 'asc', limit: 100 });
  const executions = await Promise.all(list.items.map((e) => engine.executions.get(e.id)));

  print();
  print(style.bold(`Executions, as recorded in ${relative(process.cwd(), storePath) || storePath}`));
  const rows: Cell[][] = [];
  for (const e of executions) {
    e.steps.forEach((s, i) => {
      // A replay's second line says what it replays.
      const lineage = i === 1 && e.replayOf ? { text: `↳ replay of ${short(e.replayOf)}`, paint: style.dim } : '';
      rows.push([
        i === 0 ? e.id : lineage,
        i === 0 ? String((e.input as OrderCreatedEvent).orderId) : '',
        i === 0 ? { text: e.status, paint: statusPaint(e.status) } : '',
        s.name,
        { text: attemptsText(s), paint: statusPaint(s.status) },
      ]);
    });
  }
  for (const line of table(['EXECUTION', 'ORDER', 'STATUS', 'STEP', 'ATTEMPTS'], rows)) print(line);

  print();
  print(style.bold('In the ERP'));
  const records = api.erpRecords();
  const erpRows = records.map((r) => [
    r.erpId,
    r.ref,
    r.customer.name,
    `${(r.totalCents / 100).toFixed(2)} ${r.currency}`,
  ]);
  for (const line of table(['ERP ID', 'ORDER', 'CUSTOMER', 'TOTAL'], erpRows)) print(line);
  const duplicates = records.length - new Set(records.map((r) => r.ref)).size;
  print(
    duplicates === 0
      ? `  ${style.dim(`${records.length} records, one per order: no duplicates`)}`
      : `  ${style.red(`${duplicates} duplicate record(s)!`)}`,
  );

  const originals = executions.filter((e) => e.replayOf === null);
  const found = await engine.executions.list({ flow: 'order-sync', status: 'failed' });
  const unresolved = await engine.executions.list({ flow: 'order-sync', status: 'failed', resolved: false });
  problems.push(
    ...checkOutcome({
      byOrder: new Map(originals.map((e) => [(e.input as OrderCreatedEvent).orderId, e])),
      executionCount: executions.length,
      sent: new Map([...stories].map(([orderId, story]) => [orderId, story.event])),
      replay: executions.find((e) => e.id === replayId),
      failedIds: found.items.map((e) => e.id),
      unresolvedIds: unresolved.items.map((e) => e.id),
      api,
    }),
  );
}

async function showFailed(id: string): Promise<void> {
  const e = await engine.executions.get(id);
  const step = e.steps.find((s) => s.name === e.error?.step);
  const fetched = e.steps.find((s) => s.name === 'fetch-order');
  print();
  print(style.bold('The failed execution, as Retrace recorded it'));
  print(`  execution  ${e.id}`);
  print(`  status     ${style.red(e.status)}`);
  const fatal = e.error && flow.errors[e.error.name] === 'fatal';
  const attempts = step ? ` (${step.attemptCount} attempt${step.attemptCount === 1 ? '' : 's'}` : '';
  print(
    `  step       ${e.error?.step}${attempts}${attempts && (fatal ? `; ${e.error?.name} is declared fatal)` : ')')}`,
  );
  print(`  error      ${e.error?.name}: ${e.error?.message}`);
  print(`  input      ${style.dim('stored whole, exactly as run() received it:')}`);
  for (const line of indentedJson(e.input, '             ')) print(line);
  if (fetched) {
    const order = fetched.output as { lines?: unknown[] };
    print(`  fetched    ${style.dim('the order as Acme sent it (output of fetch-order), its lines:')}`);
    for (const line of order.lines ?? []) print(`             ${JSON.stringify(line)}`);
  }
  print(`  logs`);
  for (const l of e.logs) {
    const data = l.data === null || l.data === undefined ? '' : ` ${JSON.stringify(l.data)}`;
    print(
      `    ${style.dim(l.at.toISOString().slice(11, 23))}  ${l.level.padEnd(5)} ${l.step ?? '(flow)'}: ${l.message}${data}`,
    );
  }

  const found = await engine.executions.list({ flow: 'order-sync', status: 'failed', resolved: false });
  print();
  print(style.bold('Finding it again'));
  print(
    `  engine.executions.list({ status: 'failed', resolved: false }) → ${found.items.map((f) => f.id).join(', ') || '(none)'}`,
  );
  print(
    `  ${style.dim('Its input and every step output are kept whole: once the order is fixed in Acme, it can be replayed.')}`,
  );
}

/** "4  ✗ ✗ ✗ ✓": the attempt count, then each attempt's outcome in order. */
function attemptsText(s: StepView): string {
  const marks = s.attempts.map((a) => (a.status === 'succeeded' ? '✓' : a.status === 'running' ? '…' : '✗'));
  const validated = s.status === 'succeeded' && s.attempts.at(-1)?.status !== 'succeeded';
  return `${s.attemptCount}  ${marks.join(' ')}${validated ? ' → validate found it ✓' : ''}`;
}

function statusPaint(status: string): (t: string) => string {
  return status === 'succeeded' ? style.green : status === 'failed' ? style.red : style.yellow;
}

/** UUIDv7 ids made close together share their first (time) digits: keep the random tail too. */
function short(id: string): string {
  return `${id.slice(0, 8)}…${id.slice(-4)}`;
}
