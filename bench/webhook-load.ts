/**
 * The webhook load check's load generator, run in a worker thread (bench/webhooks.ts starts it):
 * autocannon in the server's own event loop took ~12 % of the one thread the server and the
 * engine share, so the figure measured the generator as much as the server. Here it has its own
 * thread (the machine's other core). It sends `deliveries` W1 inputs, one distinct order each,
 * signed when a secret is given, and posts autocannon's summary back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import autocannon from 'autocannon';
import { signatureHeaders } from '../src/core/triggers/webhook-signature.js';
import { w1InputFor } from './w1-workload.js';

export interface LoadSettings {
  url: string;
  path: string;
  deliveries: number;
  connections: number;
  /** Requests each connection may have in flight (HTTP pipelining); 1 is plain keep-alive. */
  pipelining: number;
  /** The instance's `whsec_` secret: every delivery is signed with it. */
  secret: string | null;
}

export interface LoadResult {
  /** From the first request sent to the last answer, measured in this thread. */
  wallMs: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

/** autocannon's documented `aggregateResult`, missing from its type declarations. */
interface AggregateResult {
  aggregateResult(results: autocannon.Result[], options: autocannon.Options): autocannon.Result;
}

async function main(settings: LoadSettings): Promise<LoadResult> {
  let n = 0;
  const began = performance.now();
  const options = {
    url: settings.url,
    connections: settings.connections,
    pipelining: settings.pipelining,
    amount: settings.deliveries,
    timeout: 60,
    requests: [
      {
        method: 'POST',
        path: settings.path,
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => {
          const body = JSON.stringify(w1InputFor(n++));
          const headers = settings.secret
            ? {
                ...request.headers,
                ...signatureHeaders(settings.secret, `msg_${n}`, Buffer.from(body), Date.now() / 1000),
              }
            : request.headers;
          return { ...request, body, headers };
        },
      },
    ],
  } satisfies autocannon.Options;
  // Off the main thread autocannon returns its raw histograms (it assumes its own worker mode):
  // aggregating them gives the usual summary.
  const raw = await autocannon(options);
  const result = (autocannon as unknown as AggregateResult).aggregateResult([raw], options);
  return {
    wallMs: performance.now() - began,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    latencyMaxMs: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: raw.timeouts,
  };
}

if (parentPort) {
  const port = parentPort;
  main(workerData as LoadSettings).then(
    (result) => port.postMessage({ ok: true, result }),
    (err: unknown) => port.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
}
