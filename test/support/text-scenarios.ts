/**
 * The same awkward text (a NUL, a lone surrogate) through the same flows, on any store: both
 * stores must end each case the same way. Used by test/engine/storable-text.test.ts (SQLite)
 * and test/store/postgres-storable-text.test.ts.
 */
import assert from 'node:assert/strict';
import { createEngine, defineFlow, FatalError, type Store } from '../../src/index.js';
import { FAST } from './temp-engine.js';

const NUL = 'a\u0000b';
const LONE = 'x\ud800y';
const REPLACED = { [NUL]: 'a\ufffdb', [LONE]: 'x\ufffdy' };

const textFlow = defineFlow({
  name: 'awkward-text',
  async run(ctx) {
    ctx.log.info(NUL, { nul: NUL, lone: LONE });
    const echoed = await ctx.step('echo', (s) => {
      s.log.warn(LONE);
      return { nul: NUL, lone: LONE };
    });
    await ctx.step('refuse', () => {
      throw new FatalError(`refused ${echoed.nul} and ${echoed.lone}`);
    });
  },
});

const badNameFlow = defineFlow({
  name: 'awkward-step-name',
  async run(ctx) {
    await ctx.step('fine', () => 1);
    await ctx.step('bad\u0000name', () => 2);
  },
});

const waitingFlow = defineFlow({
  name: 'awkward-wait',
  async run(ctx) {
    await ctx.step('wait', (s) => new Promise((resolve) => s.signal.addEventListener('abort', resolve)));
  },
});

/** What one store made of the cases: compared between stores, and checked against what is expected. */
export async function awkwardTextOutcome(store: Store): Promise<unknown> {
  const engine = createEngine({ ...FAST, flows: [textFlow, badNameFlow, waitingFlow], store });
  await engine.start();
  try {
    const text = await engine.run('awkward-text', {});
    await assert.rejects(text.result({ timeoutMs: 10_000 }), { code: 'EXECUTION_FAILED' });
    const t = await engine.executions.get(text.id);
    const named = await engine.run('awkward-step-name', {});
    await assert.rejects(named.result({ timeoutMs: 10_000 }), { code: 'EXECUTION_FAILED' });
    const n = await engine.executions.get(named.id);
    const refusedAs = (err: { code?: string; option?: string }) => `${err.code} ${err.option}`;
    const keyed = await engine
      .run('awkward-text', {}, { idempotencyKey: 'key\u0000' })
      .then(() => 'accepted', refusedAs);
    // An operator's words are free text: kept with U+FFFD; who they are is a name: refused.
    const replayedBy = await engine.replay(text.id, { actor: LONE }).then(() => 'accepted', refusedAs);
    const replay = await engine.replay(text.id, { reason: NUL, actor: 'ops' });
    await assert.rejects(replay.result({ timeoutMs: 10_000 }), { code: 'EXECUTION_FAILED' });
    const replayAudit = (await engine.audit.list({ executionId: text.id, action: 'replay' })).map((a) => a.reason);
    const waiting = await engine.run('awkward-wait', {});
    await engine.cancel(waiting.id, { reason: LONE });
    const cancelAudit = (await engine.audit.list({ executionId: waiting.id, action: 'cancel' })).map((a) => a.reason);
    const outcome = {
      text: {
        status: t.status,
        claimCount: t.claimCount,
        error: t.error?.message,
        steps: t.steps.map((s) => [s.name, s.status, s.output ?? null]),
        logs: t.logs.map((l) => [l.message, l.data ?? null]),
      },
      badName: { status: n.status, claimCount: n.claimCount, code: n.error?.code, steps: n.steps.map((s) => s.name) },
      keyed,
      replayedBy,
      replayAudit,
      cancelAudit,
    };
    assert.deepEqual(outcome, {
      text: {
        status: 'failed',
        claimCount: 1,
        error: `refused ${REPLACED[NUL]} and ${REPLACED[LONE]}`,
        steps: [
          ['echo', 'succeeded', { nul: NUL, lone: LONE }], // payloads are JSON: kept exactly
          ['refuse', 'failed', null],
        ],
        logs: [
          [REPLACED[NUL], { nul: NUL, lone: LONE }],
          [REPLACED[LONE], null],
        ],
      },
      badName: { status: 'failed', claimCount: 1, code: 'INVALID_DEFINITION', steps: ['fine'] },
      keyed: 'INVALID_OPTION idempotencyKey',
      replayedBy: 'INVALID_OPTION actor',
      replayAudit: [REPLACED[NUL]],
      cancelAudit: [REPLACED[LONE]],
    });
    return outcome;
  } finally {
    await engine.stop();
  }
}
