/**
 * Flow names the engine keeps for its own flows (today `retrace:invocation`, which carries every
 * invocation). User flows may not take them, and the lists people read (known flows in an
 * error, instances) leave them out: they are the engine's plumbing, not the user's flows.
 */
export const RESERVED_FLOW_PREFIX = 'retrace:';
export const isReservedFlowName = (name: string): boolean => name.startsWith(RESERVED_FLOW_PREFIX);
