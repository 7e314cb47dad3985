/**
 * Which steps a replay from `fromStep` starts with, and the outputs an operator supplies
 * ("initialise the flow with data"):
 *
 * - Steps the original recorded before `fromStep` are copied into the replay as `reused`:
 *   their recorded output, or the one supplied in `stepOutputs` (recorded as supplied, with who).
 *   One that did not succeed (failed, retrying) has no output to reuse: it must be supplied, or
 *   the replay must start at it.
 * - `fromStep` may name a step the original never reached. Outputs supplied for steps the
 *   original never recorded are kept with the replay; when its run reaches such a step before
 *   `fromStep`, the step is recorded with the supplied output instead of running
 *   (run/supplied-steps.ts). An unrecorded step before `fromStep` that is not supplied simply runs: it
 *   never ran in the original, so running it duplicates nothing.
 *
 * Supplied outputs are validated as any payload (JSON, the payload size limit).
 */
import { encodePayload } from '../shared/codec.js';
import { InvalidOptionError, RetraceError } from '../shared/errors.js';
import type { ExecutionDetailRecord, ReusedStepWrite, SuppliedOutputs } from '../store/store.js';

export interface ReplaySteps {
  reused: ReusedStepWrite[];
  /** For ExecutionRecord.suppliedOutputsJson; null when no unrecorded step is supplied. */
  suppliedOutputsJson: string | null;
}

export function planReplaySteps(
  original: ExecutionDetailRecord,
  options: { fromStep?: string; stepOutputs?: Record<string, unknown>; actor: string },
  maxPayloadBytes: number,
): ReplaySteps {
  const overrides = options.stepOutputs ?? {};
  const { fromStep } = options;
  if (fromStep === undefined) {
    if (Object.keys(overrides).length) {
      throw new InvalidOptionError('stepOutputs', 'stepOutputs needs fromStep: only steps before fromStep are reused');
    }
    return { reused: [], suppliedOutputsJson: null };
  }
  const id = original.execution.id;
  const steps = original.steps;
  const start = steps.find((s) => s.name === fromStep);
  const before = start ? steps.filter((s) => s.position < start.position) : steps;
  const beforeNames = () => before.map((s) => s.name).join(', ') || 'none';

  const supplied = new Map<string, string | null>();
  const unrecorded: Record<string, string | null> = {};
  for (const [name, value] of Object.entries(overrides)) {
    if (name === fromStep) {
      throw new InvalidOptionError(
        `stepOutputs.${name}`,
        `stepOutputs names "${name}", the step the replay starts at: it runs; supply outputs of steps before it`,
      );
    }
    const json = encodePayload(
      value,
      `Output override for step "${name}"`,
      maxPayloadBytes,
      `stepOutputs.${name}`,
    ).json;
    if (before.some((s) => s.name === name)) {
      supplied.set(name, json);
    } else if (!start && !steps.some((s) => s.name === name)) {
      // Neither recorded nor ruled out: a step the original never reached, before fromStep (which it never reached either).
      supplied.set(name, json);
      unrecorded[name] = json;
    } else {
      throw new RetraceError(
        'UNKNOWN_STEP',
        `stepOutputs names "${name}", which is not a step before "${fromStep}" (those are: ${beforeNames()})`,
        { field: `stepOutputs.${name}` },
      );
    }
  }

  const reused = before.map((s): ReusedStepWrite => {
    const given = supplied.has(s.name);
    if (!given && s.status !== 'succeeded' && s.status !== 'reused') {
      if (!start) {
        throw new RetraceError(
          'UNKNOWN_STEP',
          `Execution ${id} has no step "${fromStep}". Recorded steps: ${steps.map((r) => r.name).join(', ')}. ` +
            `To start at a step it never reached, supply the output of "${s.name}" (${s.status}) in stepOutputs, or start at it`,
          { field: 'fromStep' },
        );
      }
      throw new RetraceError(
        'REPLAY_NOT_ALLOWED',
        `Step "${s.name}" did not succeed (${s.status}), so it cannot be reused: supply its output (stepOutputs) or start at it (fromStep "${s.name}")`,
      );
    }
    return {
      position: s.position,
      name: s.name,
      kind: s.kind,
      system: s.system,
      outputJson: given ? (supplied.get(s.name) ?? null) : s.outputJson,
      repeatable: s.repeatable,
      hasValidator: s.hasValidator,
      reusedFrom: id,
      outputSource: given ? 'supplied' : 'original',
      suppliedBy: given ? options.actor : null,
    };
  });
  const outputs = Object.keys(unrecorded).length
    ? JSON.stringify({ actor: options.actor, outputs: unrecorded } satisfies SuppliedOutputs)
    : null;
  return { reused, suppliedOutputsJson: outputs };
}
