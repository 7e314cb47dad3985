/**
 * The GraphQL runFlow and cancelExecution mutations end to end over real HTTP: manual runs on an
 * instance or its flow's default, idempotency keys, cancelling a running execution, and the
 * refusals each reports in `errors { field messages }`. Audit records carry the key's name.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gql } from 'graphql-request';
import { waitFor } from '../support/temp-engine.js';
import { gates, startGraphql, type UserErrors } from './graphql-support.js';

const h = await startGraphql();
const operator = h.client(['operate'], 'ops-bot');

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
