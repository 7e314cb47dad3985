/**
 * The load of the waiting-step crash suite, released over the children's lives: life k adds a
 * share of new work (so every armed point is reached again in each life, not only while old
 * work is resumed) and re-starts everything its predecessors started, by idempotency key or
 * cid. What each item must end as follows from its inputs alone (expectedInvocation).
 */
import type { InvokeMode, InvokeOptions } from '../../src/index.js';
import { type CallerInput, FLOWS, type SignalInput, type SleeperInput, type TargetInput } from './wait-flows.js';
import type { StoreSpec } from './wait-store.js';

export type WorkItem =
  | { kind: 'run'; key: string; flow: string; input: unknown }
  | { kind: 'invoke'; cid: string; target: string; input: unknown; options: InvokeOptions };

/** What wait-child.ts is given (as a JSON file). */
export interface WaitChildConfig {
  store: StoreSpec;
  ledgerPath: string;
  concurrency: number;
  inMemoryRetryMaxMs: number;
  gated: boolean;
  /** Everything this child (re)starts, in order: its predecessors' work and its own new share. */
  work: WorkItem[];
  /** The second signal of a flow is sent up to this long after its first was consumed. */
  signalDelayMs: number;
}

/** Longer than inMemoryRetryMax: the caller's and the invocation's waits on a target go durable. */
export const TARGET_MS = 40;
export const IN_MEMORY_MAX_MS = 25;
/** Between attempts: a durable sleep (longer than inMemoryRetryMax). */
export const RETRY_SECONDS = 0.2;
export const NAP_MS = 300;
/** Short enough to be slept in memory. */
export const BLINK_MS = 10;
export const NEVER_TIMEOUT_MS = 150;

/** One invocation as the test expects it to end. */
export interface InvocationPlan {
  /** Outside (engine.invoke): the cid given; inside: the caller's key (its cid is `<caller id>.1`). */
  cid?: string;
  callerKey?: string;
  mode: InvokeMode;
  /** The target's ledger key. */
  key: string;
  failTimes: number;
  repeats: number;
  retrySeconds: number;
  callback: boolean;
}

export const expectedAttempts = (p: InvocationPlan): number => Math.min(p.failTimes, p.repeats) + 1;
export const expectedOk = (p: InvocationPlan): boolean => p.failTimes <= p.repeats;

export interface LifeShare {
  work: WorkItem[];
  invocations: InvocationPlan[];
}

/** The new work of life `i` (0-based). */
export function lifeShare(i: number): LifeShare {
  const work: WorkItem[] = [];
  const invocations: InvocationPlan[] = [];

  // A flow's sync invocation: succeeds first time, after one decline, or never (the caller fails).
  const caller: CallerInput = {
    key: `c${i}`,
    failTimes: [0, 1, 3][i % 3]!,
    repeats: 2,
    seconds: RETRY_SECONDS,
    stepMs: TARGET_MS,
  };
  work.push({ kind: 'run', key: caller.key, flow: FLOWS.caller, input: caller });
  invocations.push({
    callerKey: caller.key,
    mode: 'sync',
    key: caller.key,
    failTimes: caller.failTimes,
    repeats: caller.repeats,
    retrySeconds: caller.seconds,
    callback: true,
  });

  const outside = (cid: string, failTimes: number, options: InvokeOptions & { mode: InvokeMode; repeats: number }) => {
    const input: TargetInput = { key: cid, failTimes, stepMs: TARGET_MS };
    work.push({ kind: 'invoke', cid, target: FLOWS.target, input, options });
    invocations.push({
      cid,
      mode: options.mode,
      key: cid,
      failTimes,
      repeats: options.repeats,
      retrySeconds: RETRY_SECONDS,
      callback: options.callback !== undefined,
    });
  };
  // In the background: after one or two declines (two exhaust its one repeat), or at once.
  outside(`a${i}`, [1, 2, 0][i % 3]!, {
    mode: 'async',
    repeats: 1,
    seconds: RETRY_SECONDS,
    callback: FLOWS.callback,
  });
  if (i % 2 === 0) {
    // The caller is answered `pending` after the first attempt; the second runs in the background.
    outside(`s${i}`, 1, { mode: 'sync-async', repeats: 1, seconds: RETRY_SECONDS, callback: FLOWS.callback });
  } else {
    outside(`y${i}`, 0, { mode: 'sync', repeats: 1, seconds: RETRY_SECONDS, callback: FLOWS.callback });
  }

  const sleeper: SleeperInput = { key: `z${i}`, napMs: NAP_MS, blinkMs: BLINK_MS };
  work.push({ kind: 'run', key: sleeper.key, flow: FLOWS.sleeper, input: sleeper });
  const signal: SignalInput = { key: `g${i}`, timeoutMs: NEVER_TIMEOUT_MS };
  work.push({ kind: 'run', key: signal.key, flow: FLOWS.signal, input: signal });
  return { work, invocations };
}

/** Everything lives 0..life started (what child `life` re-starts). */
export function workUpTo(life: number): LifeShare {
  const all: LifeShare = { work: [], invocations: [] };
  for (let i = 0; i <= life; i++) {
    const share = lifeShare(i);
    all.work.push(...share.work);
    all.invocations.push(...share.invocations);
  }
  return all;
}
