/**
 * GraphQL mutations end to end over real HTTP: the seed's replayExecution document verbatim,
 * every mutation, and the refusals each reports in `errors { field messages }` rather than as
 * GraphQL errors. Audit records carry the calling key's name.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { gql } from 'graphql-request';
import { waitFor } from '../support/temp-engine.js';
import { gates, runOrder, startGraphql } from './graphql-support.js';
import { MY_REPLAY_EXECUTION } from './prismatic-seed-documents.js';

const h = await startGraphql();
const operator = h.client(['operate'], 'ops-bot');
const admin = h.client(['admin'], 'admin-key');

/** The instance's row as stored in the SQLite file, every column as text. */
function rowText(id: string): string {
  const db = new Database(h.storeFile, { readonly: true });
  try {
    const row = db.prepare('SELECT * FROM instances WHERE id = ?').get(id);
    assert.ok(row, `instance ${id} is stored`);
    return JSON.stringify(row);
  } finally {
    db.close();
  }
}

/** The instance's `secrets` column, parsed: secret name → what is stored for it. */
function storedSecrets(id: string): Record<string, string> {
  return JSON.parse((JSON.parse(rowText(id)) as { secrets: string }).secrets) as Record<string, string>;
}

interface UserErrors {
  errors: { field: string; messages: string[]; code?: string }[];
}
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

describe('graphql: runFlow and cancelExecution', () => {
  const RUN = gql`
    mutation ($input: RunFlowInput!) {
      runFlow(input: $input) {
        instanceExecutionResult { id trigger instance { id } flow { name } }
        created
        errors { field messages code }
      }
    }
  `;
  type RunAnswer = {
    runFlow: UserErrors & {
      instanceExecutionResult: { id: string; trigger: string; instance: { id: string }; flow: { name: string } } | null;
      created: boolean | null;
    };
  };

  it('starts a flow on an instance with a payload, as a manual trigger', async () => {
    const instance = await h.engine.instances.create({ flow: 'sync-order', name: 'manual' });
    const answer = await operator.request<RunAnswer>(RUN, {
      input: { instance: instance.id, input: { orderId: 'good-manual' }, idempotencyKey: 'k-1' },
    });
    assert.deepEqual(answer.runFlow.errors, []);
    const run = answer.runFlow.instanceExecutionResult!;
    assert.equal(run.trigger, 'manual');
    assert.equal(run.instance.id, instance.id);
    assert.equal(run.flow.name, 'sync-order');
    assert.equal(answer.runFlow.created, true);
    assert.deepEqual(await h.engine.handle(run.id).result(), { erpId: 'erp-good-manual' });
    const runAudit = await h.engine.audit.list({ executionId: run.id });
    assert.deepEqual(
      runAudit.map((a) => [a.action, a.actor, a.details]),
      [['run', 'ops-bot', { trigger: 'manual', instance: instance.id }]],
      'a manual run is audited with the key name',
    );
    const again = await operator.request<RunAnswer>(RUN, {
      input: { instance: instance.id, input: { orderId: 'good-manual' }, idempotencyKey: 'k-1' },
    });
    assert.equal(again.runFlow.created, false);
    assert.equal(again.runFlow.instanceExecutionResult!.id, run.id);
  });

  it('runs a flow on its default instance when given only the flow', async () => {
    const answer = await operator.request<RunAnswer>(RUN, { input: { flow: 'sync-order', input: { orderId: 'd-1' } } });
    assert.equal(answer.runFlow.instanceExecutionResult!.instance.id, 'sync-order.default');
  });

  it("refuses bad input, an unknown instance, a flow that is not the instance's, and neither given", async () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ flow: 'sync-order', input: { orderId: 7 } }, 'input.orderId', 'INPUT_INVALID'],
      [{ instance: 'in-nope', input: { orderId: 'x' } }, 'instance', 'UNKNOWN_INSTANCE'],
      [{ instance: 'sync-order.default', flow: 'slow', input: { key: 'x' } }, 'instance', 'UNKNOWN_INSTANCE'],
      [{ flow: 'no-such-flow' }, 'flow', 'UNKNOWN_FLOW'],
      [{ input: { orderId: 'x' } }, 'instance', 'INVALID_OPTION'],
      [{ flow: 'sync-order', input: { orderId: 'x' }, idempotencyKey: '' }, 'idempotencyKey', 'INVALID_OPTION'],
    ];
    for (const [input, field, code] of cases) {
      const answer = await operator.request<RunAnswer>(RUN, { input });
      assert.equal(answer.runFlow.instanceExecutionResult, null, JSON.stringify(input));
      assert.deepEqual(
        answer.runFlow.errors.map((e) => [e.field, e.code]),
        [[field, code]],
        JSON.stringify(input),
      );
    }
  });

  it('cancels a running execution (audited with the key name); cancelling again is a user error', async () => {
    const CANCEL = gql`
      mutation ($input: CancelExecutionInput!) {
        cancelExecution(input: $input) {
          instanceExecutionResult { id status }
          errors { field messages code }
        }
      }
    `;
    type CancelAnswer = {
      cancelExecution: UserErrors & { instanceExecutionResult: { id: string; status: string } | null };
    };
    const started = await operator.request<RunAnswer>(RUN, { input: { flow: 'slow', input: { key: 'c-1' } } });
    const id = started.runFlow.instanceExecutionResult!.id;
    await waitFor(() => gates.has('c-1'), 10_000, 'the slow step to start');
    const cancelled = await operator.request<CancelAnswer>(CANCEL, { input: { id, reason: 'wrong customer' } });
    assert.deepEqual(cancelled.cancelExecution.errors, []);
    assert.equal(cancelled.cancelExecution.instanceExecutionResult!.status, 'CANCELLED');
    gates.get('c-1')!.resolve();
    const audit = await h.engine.audit.list({ executionId: id });
    assert.deepEqual(
      audit.map((a) => [a.action, a.actor, a.reason]),
      [
        ['cancel', 'ops-bot', 'wrong customer'],
        ['run', 'ops-bot', null],
      ],
    );
    const again = await operator.request<CancelAnswer>(CANCEL, { input: { id } });
    assert.equal(again.cancelExecution.instanceExecutionResult, null);
    assert.deepEqual(
      again.cancelExecution.errors.map((e) => [e.field, e.code]),
      [['id', 'EXECUTION_FINISHED']],
    );
    const unknown = await operator.request<CancelAnswer>(CANCEL, { input: { id: 'nope' } });
    assert.deepEqual(
      unknown.cancelExecution.errors.map((e) => [e.field, e.code]),
      [['id', 'EXECUTION_NOT_FOUND']],
    );
  });
});

describe('graphql: instances (admin) and their secrets', () => {
  const FIELDS =
    'instance { id name enabled isDefault labels config secretKeys flow { name } } errors { field messages code }';
  type InstanceAnswer = Record<
    string,
    UserErrors & {
      instance: {
        id: string;
        name: string;
        enabled: boolean;
        labels: Record<string, string>;
        config: Record<string, unknown>;
        secretKeys: string[];
      } | null;
    }
  >;

  it('creates, updates and deletes an instance; secret values are never returned, only their names', async () => {
    const secret = 'sk-live-very-secret-value';
    const rotated = 'tok-rotated-secret-value-42';
    const created = await admin.request<InstanceAnswer>(
      gql`mutation ($input: CreateInstanceInput!) { createInstance(input: $input) { ${FIELDS} } }`,
      {
        input: {
          flow: 'sync-order',
          name: 'globex',
          labels: { customer: 'Globex' },
          config: { shopUrl: 'https://globex.example' },
          secrets: { apiKey: secret },
        },
      },
    );
    assert.deepEqual(created.createInstance!.errors, []);
    const instance = created.createInstance!.instance!;
    assert.equal(instance.name, 'globex');
    assert.deepEqual(instance.labels, { customer: 'Globex' });
    assert.deepEqual(instance.config, { shopUrl: 'https://globex.example' });
    assert.deepEqual(instance.secretKeys, ['apiKey']);
    assert.ok(!JSON.stringify(created).includes(secret));
    const atRest = storedSecrets(instance.id);
    assert.deepEqual(Object.keys(atRest), ['apiKey'], 'the secret is stored…');
    assert.ok(atRest.apiKey!.length > secret.length);
    assert.ok(!JSON.stringify(atRest).includes(secret), '…encrypted: its plain text is not in the row');
    assert.ok(!rowText(instance.id).includes(secret));

    const updated = await admin.request<InstanceAnswer>(
      gql`mutation ($input: UpdateInstanceInput!) { updateInstance(input: $input) { ${FIELDS} } }`,
      {
        input: { id: instance.id, enabled: false, secrets: { apiKey: null, token: rotated }, config: { region: 'eu' } },
      },
    );
    assert.deepEqual(updated.updateInstance!.errors, []);
    assert.equal(updated.updateInstance!.instance!.enabled, false);
    assert.deepEqual(updated.updateInstance!.instance!.secretKeys, ['token']);
    assert.deepEqual(updated.updateInstance!.instance!.config, { shopUrl: 'https://globex.example', region: 'eu' });
    assert.ok(!rowText(instance.id).includes(rotated), 'the rotated secret is encrypted at rest too');
    assert.deepEqual(Object.keys(storedSecrets(instance.id)), ['token']);

    const read = await h
      .client(['read'])
      .request<{ instance: { secretKeys: string[]; name: string } }>(
        gql`query ($id: ID!) { instance(id: $id) { name secretKeys } }`,
        { id: instance.id },
      );
    assert.deepEqual(read.instance, { name: 'globex', secretKeys: ['token'] });

    const deleted = await admin.request<Record<string, UserErrors & { deletedId: string | null }>>(
      gql`mutation ($id: ID!) { deleteInstance(input: { id: $id }) { deletedId errors { field code messages } } }`,
      { id: instance.id },
    );
    assert.deepEqual(deleted.deleteInstance, { deletedId: instance.id, errors: [] });
    assert.deepEqual(
      await h.client(['read']).request(gql`query ($id: ID!) { instance(id: $id) { id } }`, { id: instance.id }),
      { instance: null },
    );

    // Every change is audited under the key's name, naming the fields changed, never a value.
    // The audit log lists newest first.
    const audit = (await h.engine.audit.list({ limit: 1000 }))
      .reverse()
      .filter((a) => (a.details as { instanceId?: string } | null)?.instanceId === instance.id);
    assert.deepEqual(
      audit.map((a) => [a.action, a.actor]),
      [
        ['instance.create', 'admin-key'],
        ['instance.update', 'admin-key'],
        ['instance.delete', 'admin-key'],
      ],
    );
    assert.deepEqual((audit[1]!.details as { fields: string[] }).fields, [
      'config.region',
      'secrets.apiKey',
      'secrets.token',
      'enabled',
    ]);
    const auditText = JSON.stringify(audit);
    assert.ok(!auditText.includes(secret) && !auditText.includes(rotated), 'no secret value in the audit log');
  });

  it('reports an unknown flow, a bad name, an unknown id and the default instance as user errors', async () => {
    const create = gql`mutation ($input: CreateInstanceInput!) { createInstance(input: $input) { ${FIELDS} } }`;
    const unknownFlow = await admin.request<InstanceAnswer>(create, { input: { flow: 'nope', name: 'x' } });
    assert.deepEqual(
      unknownFlow.createInstance!.errors.map((e) => [e.field, e.code]),
      [['flow', 'UNKNOWN_FLOW']],
    );
    const badName = await admin.request<InstanceAnswer>(create, { input: { flow: 'sync-order', name: ' ' } });
    assert.deepEqual(
      badName.createInstance!.errors.map((e) => [e.field, e.code]),
      [['name', 'INSTANCE_INVALID']],
    );
    // A name no store can keep (a NUL): refused as the caller's to fix, on the field, not as a server error.
    const nulName = await admin.request<InstanceAnswer>(create, { input: { flow: 'sync-order', name: 'eu\u0000' } });
    assert.deepEqual(
      nulName.createInstance!.errors.map((e) => [e.field, e.code]),
      [['name', 'INSTANCE_INVALID']],
    );
    assert.equal(await h.engine.instances.get('sync-order.eu\u0000').catch(() => undefined), undefined);
    const update = await admin.request<InstanceAnswer>(
      gql`mutation { updateInstance(input: { id: "in-nope", name: "y" }) { ${FIELDS} } }`,
    );
    assert.deepEqual(
      update.updateInstance!.errors.map((e) => [e.field, e.code]),
      [['id', 'UNKNOWN_INSTANCE']],
    );
    const deleteDefault = await admin.request<Record<string, UserErrors>>(
      gql`mutation { deleteInstance(input: { id: "sync-order.default" }) { deletedId errors { field code messages } } }`,
    );
    assert.deepEqual(
      deleteDefault.deleteInstance!.errors.map((e) => [e.field, e.code]),
      [['id', 'INSTANCE_DELETE_NOT_ALLOWED']],
    );
  });

  it('creates, shows, updates and deletes a schedule on an instance', async () => {
    const instance = await h.engine.instances.create({ flow: 'sync-order', name: 'scheduled' });
    const created = await admin.request<{
      createSchedule: UserErrors & { schedule: { id: string; cron: string; timezone: string; missed: string } };
    }>(
      gql`mutation ($input: CreateScheduleInput!) {
        createSchedule(input: $input) { schedule { id cron timezone missed instance { id } nextFireAt } errors { field code messages } }
      }`,
      {
        input: {
          instance: instance.id,
          cron: '0 9 * * 1-5',
          timezone: 'Europe/Paris',
          input: { orderId: 'daily' },
          missed: 'SKIP',
        },
      },
    );
    assert.deepEqual(created.createSchedule.errors, []);
    const schedule = created.createSchedule.schedule;
    assert.equal(schedule.missed, 'SKIP');
    const listed = await h
      .client(['read'])
      .request<{ instance: { schedules: { id: string }[] } }>(
        gql`query ($id: ID!) { instance(id: $id) { schedules { id } } }`,
        { id: instance.id },
      );
    assert.deepEqual(listed.instance.schedules, [{ id: schedule.id }]);
    const badCron = await admin.request<{ updateSchedule: UserErrors }>(
      gql`mutation ($id: ID!) { updateSchedule(input: { id: $id, cron: "not cron" }) { errors { field code messages } } }`,
      { id: schedule.id },
    );
    assert.deepEqual(
      badCron.updateSchedule.errors.map((e) => [e.field, e.code]),
      [['cron', 'INVALID_OPTION']],
    );
    const deleted = await admin.request<{ deleteSchedule: UserErrors & { deletedId: string } }>(
      gql`mutation ($id: ID!) { deleteSchedule(input: { id: $id }) { deletedId errors { field code messages } } }`,
      { id: schedule.id },
    );
    assert.deepEqual(deleted.deleteSchedule, { deletedId: schedule.id, errors: [] });
  });
});
