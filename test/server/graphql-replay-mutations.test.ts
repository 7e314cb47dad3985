/**
 * GraphQL replay mutations end to end over real HTTP: the seed's replayExecution document
 * verbatim, replays with corrected input, from a step or forced, bulk replays as batches and
 * their moves, and the refusals each reports in `errors { field messages }` rather than as
 * GraphQL errors. Audit records carry the calling key's name.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gql } from 'graphql-request';
import { waitFor } from '../support/temp-engine.js';
import { runOrder, startGraphql, type UserErrors } from './graphql-support.js';
import { MY_REPLAY_EXECUTION } from './prismatic-seed-documents.js';

const h = await startGraphql();
const operator = h.client(['operate'], 'ops-bot');

type ReplayAnswer = { replayExecution: UserErrors & { instanceExecutionResult: { id: string } | null } };

const REPLAY = gql`
  mutation ($input: ReplayExecutionInput!) {
    replayExecution(input: $input) {
      instanceExecutionResult { id status lineage { replayOf { id } replayFromStep } }
      created
      errors { field messages code }
    }
  }
`;

describe('graphql: replayExecution', () => {
  it("the seed's mutation, verbatim, replays a failed execution and answers the new id with no errors", async () => {
    const failed = await runOrder(h.engine, 'bad-seed');
    const answer = await operator.request<ReplayAnswer>(MY_REPLAY_EXECUTION, { executionId: failed });
    assert.deepEqual(Object.keys(answer.replayExecution), ['instanceExecutionResult', 'errors']);
    assert.deepEqual(answer.replayExecution.errors, []);
    const replayId = answer.replayExecution.instanceExecutionResult!.id;
    assert.notEqual(replayId, failed);
    const replay = await h.engine.executions.get(replayId);
    assert.equal(replay.replayOf, failed);
    assert.equal(replay.trigger, 'replay');
    const audit = await h.engine.audit.list({ executionId: failed });
    assert.deepEqual(
      audit.map((a) => [a.action, a.actor, a.resultExecutionId]),
      [['replay', 'ops-bot', replayId]],
    );
  });

  it('replays with corrected input, which can succeed and resolve the original', async () => {
    const failed = await runOrder(h.engine, 'bad-input');
    const answer = await operator.request<ReplayAnswer>(REPLAY, {
      input: { id: failed, input: { orderId: 'fixed-1' }, reason: 'Acme is back' },
    });
    assert.deepEqual(answer.replayExecution.errors, []);
    const replayId = answer.replayExecution.instanceExecutionResult!.id;
    await h.engine.handle(replayId).result();
    const original = await h.engine.executions.get(failed);
    assert.equal(original.resolvedBy, replayId);
    const audit = await h.engine.audit.list({ executionId: failed });
    assert.equal(audit[0]!.reason, 'Acme is back');
  });

  it("keeps an operator's reason with a NUL as U+FFFD, and refuses a step name with one as a user error on fromStep", async () => {
    const failed = await runOrder(h.engine, 'bad-nul-reason');
    const refused = await operator.request<ReplayAnswer>(REPLAY, { input: { id: failed, fromStep: 'push\u0000' } });
    assert.equal(refused.replayExecution.instanceExecutionResult, null);
    assert.deepEqual(
      refused.replayExecution.errors.map((e) => [e.field, e.code]),
      [['fromStep', 'INVALID_OPTION']],
    );
    const answer = await operator.request<ReplayAnswer>(REPLAY, { input: { id: failed, reason: 'Acme\u0000back' } });
    assert.deepEqual(answer.replayExecution.errors, []);
    const audit = await h.engine.audit.list({ executionId: failed, action: 'replay' });
    assert.deepEqual(
      audit.map((a) => a.reason),
      ['Acme\ufffdback'],
    );
  });

  it('replays from a step with the earlier steps reused, one of them with a given output', async () => {
    const failed = await runOrder(h.engine, 'bad-from-step');
    const answer = await operator.request<ReplayAnswer>(REPLAY, {
      input: { id: failed, fromStep: 'push', stepOutputs: { fetch: { id: 'good-override', total: 1 } } },
    });
    assert.deepEqual(answer.replayExecution.errors, []);
    const replayId = answer.replayExecution.instanceExecutionResult!.id;
    await h.engine.handle(replayId).result();
    const replay = await h.engine.executions.get(replayId);
    assert.equal(replay.replayFromStep, 'push');
    assert.deepEqual(
      replay.steps.map((s) => [s.name, s.status]),
      [
        ['fetch', 'reused'],
        ['push', 'succeeded'],
      ],
    );
    assert.deepEqual(replay.output, { erpId: 'erp-good-override' });

    // The given output is recorded as supplied, by the calling key: not as "reused from the original".
    const steps = await operator.request<{
      executionResult: { stepResults: { nodes: Record<string, unknown>[] } };
    }>(
      gql`
        query ($id: ID!) {
          executionResult(id: $id) {
            stepResults { nodes { name status outputSource suppliedBy reusedFrom validation { attempt outcome at } } }
          }
        }
      `,
      { id: replayId },
    );
    assert.deepEqual(steps.executionResult.stepResults.nodes, [
      {
        name: 'fetch',
        status: 'REUSED',
        outputSource: 'SUPPLIED',
        suppliedBy: 'ops-bot',
        reusedFrom: failed,
        validation: null,
      },
      { name: 'push', status: 'SUCCEEDED', outputSource: 'RUN', suppliedBy: null, reusedFrom: null, validation: null },
    ]);
  });

  it('reports refusals in errors with the field concerned: not failed, unknown step, bad input, unknown id', async () => {
    const succeeded = await runOrder(h.engine, 'good-refusals');
    const failed = await runOrder(h.engine, 'bad-refusals');
    const cases: [Record<string, unknown>, string, string, RegExp][] = [
      [{ id: succeeded }, 'id', 'REPLAY_NOT_ALLOWED', /pass force/],
      [{ id: failed, fromStep: 'nope' }, 'fromStep', 'UNKNOWN_STEP', /has no step "nope"/],
      [{ id: failed, fromStep: 'push', stepOutputs: { nope: 1 } }, 'stepOutputs', 'UNKNOWN_STEP', /"nope"/],
      [{ id: failed, stepOutputs: { fetch: 1 } }, 'stepOutputs', 'INVALID_OPTION', /needs fromStep/],
      [{ id: failed, stepOutputs: [1] }, 'stepOutputs', 'INVALID_OPTION', /must be an object/],
      [{ id: failed, input: { orderId: '' } }, 'input.orderId', 'INPUT_INVALID', /.+/],
      [{ id: 'no-such-execution' }, 'id', 'EXECUTION_NOT_FOUND', /no-such-execution/],
    ];
    for (const [input, field, code, message] of cases) {
      const answer = await operator.request<ReplayAnswer>(REPLAY, { input });
      assert.equal(answer.replayExecution.instanceExecutionResult, null, JSON.stringify(input));
      assert.equal(answer.replayExecution.errors.length, 1, JSON.stringify(answer));
      const [error] = answer.replayExecution.errors;
      assert.equal(error!.field, field, JSON.stringify(input));
      assert.equal(error!.code, code, JSON.stringify(input));
      assert.match(error!.messages.join(' '), message);
    }
    assert.equal((await h.engine.executions.list({ replayOf: failed })).items.length, 0, 'nothing was replayed');
  });

  it('refuses a second replay of a failure a replay already resolved, as a user error naming it; force replays it', async () => {
    const failed = await runOrder(h.engine, 'bad-resolved');
    const first = await operator.request<ReplayAnswer>(REPLAY, {
      input: { id: failed, input: { orderId: 'fixed-resolved' } },
    });
    const fixing = first.replayExecution.instanceExecutionResult!.id;
    await h.engine.handle(fixing).result();

    const again = await operator.request<ReplayAnswer>(REPLAY, { input: { id: failed } });
    assert.equal(again.replayExecution.instanceExecutionResult, null);
    assert.equal(again.replayExecution.errors.length, 1, JSON.stringify(again));
    const [error] = again.replayExecution.errors;
    assert.equal(error!.field, 'id');
    assert.equal(error!.code, 'EXECUTION_ALREADY_RESOLVED');
    assert.match(error!.messages.join(' '), new RegExp(`already resolved by replay ${fixing}.*force`));
    assert.equal((await h.engine.executions.list({ replayOf: failed })).items.length, 1, 'nothing was replayed');

    const forced = await operator.request<ReplayAnswer>(REPLAY, {
      input: { id: failed, input: { orderId: 'fixed-resolved' }, force: true },
    });
    assert.deepEqual(forced.replayExecution.errors, []);
    assert.equal((await h.engine.executions.list({ replayOf: failed })).items.length, 2);
  });

  it('force replays a succeeded execution', async () => {
    const succeeded = await runOrder(h.engine, 'good-force');
    const answer = await operator.request<ReplayAnswer>(REPLAY, { input: { id: succeeded, force: true } });
    assert.deepEqual(answer.replayExecution.errors, []);
    const replayId = answer.replayExecution.instanceExecutionResult?.id;
    assert.equal(typeof replayId, 'string');
    assert.equal((await h.engine.executions.get(replayId!)).replayOf, succeeded);
  });
});

describe('graphql: replayExecutions (bulk) and replayBatch', () => {
  it('plans with dryRun, then replays by filter as a batch that can be polled to completion', async () => {
    const instance = await h.engine.instances.create({ flow: 'sync-order', name: 'bulk' });
    const failures = [await runOrder(h.engine, 'bad-b1', instance.id), await runOrder(h.engine, 'bad-b2', instance.id)];
    await runOrder(h.engine, 'good-b3', instance.id);
    const mutation = gql`
      mutation ($input: ReplayExecutionsInput!) {
        replayExecutions(input: $input) {
          plan { matched skipped truncated items { executionResult { id } skip reusedSteps startsAt } }
          replayBatch { id status actor reason counts { matched skipped } }
          errors { field messages code }
        }
      }
    `;
    type Answer = {
      replayExecutions: UserErrors & {
        plan: { matched: number; items: { executionResult: { id: string } }[] } | null;
        replayBatch: { id: string; status: string; actor: string; reason: string; counts: { matched: number } } | null;
      };
    };
    const plan = await operator.request<Answer>(mutation, {
      input: { filter: { instance: instance.id }, dryRun: true },
    });
    assert.equal(plan.replayExecutions.replayBatch, null);
    assert.equal(plan.replayExecutions.plan!.matched, 2);
    assert.deepEqual(plan.replayExecutions.plan!.items.map((i) => i.executionResult.id).sort(), [...failures].sort());
    assert.equal((await h.engine.executions.list({ instance: instance.id, isReplay: true })).items.length, 0);

    const started = await operator.request<Answer>(mutation, {
      input: { filter: { instance: instance.id }, reason: 'outage over', concurrency: 2 },
    });
    assert.deepEqual(started.replayExecutions.errors, []);
    const batch = started.replayExecutions.replayBatch!;
    assert.equal(batch.actor, 'ops-bot');
    assert.equal(batch.reason, 'outage over');
    assert.equal(batch.counts.matched, 2);

    type Poll = {
      replayBatch: {
        status: string;
        counts: { started: number; failed: number; active: number };
        items: { state: string; executionResult: { id: string }; replay: { id: string } | null }[];
      };
    };
    const poll = gql`
      query ($id: ID!) {
        replayBatch(id: $id) {
          status
          counts { started failed active }
          items { state executionResult { id } replay { id } }
        }
      }
    `;
    let last: Poll | undefined;
    await waitFor(
      async () => {
        last = await h.client(['read']).request<Poll>(poll, { id: batch.id });
        return last.replayBatch.status === 'COMPLETED';
      },
      15_000,
      'the batch to complete',
    );
    assert.equal(last!.replayBatch.counts.started, 2);
    assert.equal(last!.replayBatch.counts.failed, 2, 'bad orders fail again');
    assert.equal(last!.replayBatch.items.length, 2);
    assert.ok(last!.replayBatch.items.every((i) => i.state === 'started' && i.replay !== null));

    const bad = await operator.request<Answer>(mutation, {
      input: { filter: { instance: instance.id }, concurrency: 0 },
    });
    assert.equal(bad.replayExecutions.errors[0]!.field, 'concurrency');
    assert.equal(bad.replayExecutions.errors[0]!.code, 'INVALID_OPTION');

    const contradictory = await operator.request<Answer>(mutation, {
      input: { filter: { flow: 'sync-order', integration: 'slow' } },
    });
    assert.deepEqual(
      contradictory.replayExecutions.errors.map((e) => [e.field, e.code]),
      [['filter', 'INVALID_OPTION']],
    );

    const missing = await h.client(['read']).request(gql`{ replayBatch(id: "b-nope") { id } }`);
    assert.deepEqual(missing, { replayBatch: null });
  });

  it('pauses, resumes and cancels a batch; a move the batch cannot make is a user error', async () => {
    const failed = await runOrder(h.engine, 'bad-pause');
    const batch = await h.engine.replayMany({ replayOf: failed }, { force: true }); // matches nothing: completes
    // A batch slowed to one replay per 100 s stays running: it can be cancelled over GraphQL.
    const running = await h.engine.replayMany(
      { status: 'failed', flow: 'sync-order' },
      { force: true, ratePerSecond: 0.01 },
    );
    assert.ok('id' in running);
    assert.ok(running.counts.matched >= 2, 'the slow batch has items left to replay');
    const move = (name: string) => gql`
      mutation ($id: ID!) { ${name}(input: { id: $id }) { replayBatch { id status } errors { field code messages } } }
    `;
    await waitFor(async () => (await h.engine.batches.get(batch.id)).status === 'completed', 10_000, 'empty batch');
    const cancelled = await operator.request<Record<string, UserErrors & { replayBatch: { status: string } }>>(
      move('cancelReplayBatch'),
      { id: running.id },
    );
    assert.equal(cancelled.cancelReplayBatch!.replayBatch.status, 'CANCELLED');
    const moves = await h.engine.audit.list({ batchId: running.id });
    assert.ok(
      moves.some((a) => a.action === 'batch.cancel' && a.actor === 'ops-bot'),
      `batch moves are audited with the key name: ${JSON.stringify(moves.map((a) => [a.action, a.actor]))}`,
    );
    const refused = await operator.request<Record<string, UserErrors>>(move('pauseReplayBatch'), { id: batch.id });
    assert.equal(refused.pauseReplayBatch!.errors[0]!.code, 'BATCH_STATE');
    assert.equal(refused.pauseReplayBatch!.errors[0]!.field, 'id');
    const unknown = await operator.request<Record<string, UserErrors>>(move('cancelReplayBatch'), { id: 'b-nope' });
    assert.equal(unknown.cancelReplayBatch!.errors[0]!.code, 'BATCH_NOT_FOUND');
  });
});
