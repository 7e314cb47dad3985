/** Links to an execution's pages: its own, the diff against another, and replay (routes/replay, D3's page). */
export const executionUrl = (id: string) => `/executions/${encodeURIComponent(id)}`;

export const diffUrl = (a: string, b: string) => `${executionUrl(a)}/diff/${encodeURIComponent(b)}`;

export const replayUrl = (id: string, fromStep?: string) =>
  `${executionUrl(id)}/replay${fromStep === undefined ? '' : `?fromStep=${encodeURIComponent(fromStep)}`}`;

/** An invocation's page, by its cid (routes/invocations.tsx). */
export const invocationUrl = (cid: string) => `/invocations/${encodeURIComponent(cid)}`;

/** An end system's page, by its name (routes/systems.tsx). */
export const systemUrl = (name: string) => `/systems/${encodeURIComponent(name)}`;
