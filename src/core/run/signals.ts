/**
 * Sending signals (`engine.signal`): a payload put in an execution's mailbox under a name, for
 * its `ctx.waitForSignal(name)` (steps/wait-step.ts). The store keeps it until a wait consumes
 * it, and wakes the execution in the same write when it is waiting, so a signal sent before the
 * flow reaches its wait is not lost, and one sent while it waits resumes it. This engine's
 * worker is woken after, so an execution it may claim resumes at once, not at the next poll.
 * A signal to an unknown execution, or one that has finished, is refused (nothing is stored).
 */
import type { AuditTrail } from '../admin/audit-trail.js';
import type { EngineContext } from '../context/engine-context.js';
import { checkStepName } from '../flow/flow.js';
import { encodePayload } from '../shared/codec.js';
import { ExecutionNotFoundError, InvalidOptionError, SignalRejectedError } from '../shared/errors.js';
import type { ExecutionId } from '../shared/ids.js';
import { checkOptions, nonEmptyString } from '../shared/option-checks.js';
import { type SignalView, toSignalView } from './execution-view.js';
import type { Worker } from './worker.js';

export interface SignalOptions {
  /**
   * Who sent it (an API key's name, a CLI user): kept with the signal and recorded in the audit
   * log as a `signal` entry. Signals without an actor (the library's own) are not audited.
   */
  actor?: string;
}

const SIGNAL_OPTIONS = { actor: nonEmptyString };

export class SignalService {
  readonly #ctx: EngineContext;
  readonly #auditTrail: AuditTrail;

  constructor(ctx: EngineContext, collaborators: { auditTrail: AuditTrail }) {
    this.#ctx = ctx;
    this.#auditTrail = collaborators.auditTrail;
  }

  /** `localWorker`: this engine's worker, if it has one, woken once the signal is stored. */
  async send(
    executionId: string,
    name: string,
    payload: unknown,
    options: SignalOptions,
    localWorker: Pick<Worker, 'wake'> | undefined,
  ): Promise<SignalView> {
    if (typeof executionId !== 'string' || executionId === '') {
      throw new InvalidOptionError('executionId', 'signal() needs the id of an execution');
    }
    try {
      checkStepName(name);
    } catch (err) {
      throw new InvalidOptionError('name', `Signal name: ${(err as Error).message}`);
    }
    checkOptions('signal()', options, SIGNAL_OPTIONS);
    const { json } = encodePayload(
      payload,
      `Payload of signal "${name}"`,
      this.#ctx.options.maxPayloadBytes,
      'payload',
    );
    const result = await this.#ctx.store.sendSignal({
      executionId: executionId as ExecutionId,
      name,
      payloadJson: json,
      sentBy: options.actor ?? null,
    });
    if (result.outcome === 'not-found') throw new ExecutionNotFoundError(executionId);
    if (result.outcome === 'finished') throw new SignalRejectedError(executionId, name, result.status);
    localWorker?.wake();
    if (options.actor !== undefined) {
      // After the send, not in its transaction: a crash in between loses the entry, never the signal.
      await this.#auditTrail.after({
        actor: options.actor,
        action: 'signal',
        executionId: executionId as ExecutionId,
        details: { name, signalId: result.signal.id },
      });
    }
    return toSignalView(result.signal);
  }
}
