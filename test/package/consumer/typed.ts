// A strict TypeScript consumer: compiled with skipLibCheck off, so every declaration file the
// package ships (and the ones they reach) is type-checked; then run. The input schema is a
// hand-written Standard Schema, so that the types flow from it without any validation library.

import type { StandardSchemaV1 } from '@standard-schema/spec';
import { createEngine, defineFlow, type ExecutionStatus, RetraceError } from 'retrace-engine';
import { createServer } from 'retrace-engine/server';
import { OffsetClock } from 'retrace-engine/testing';

const who: StandardSchemaV1<{ who: string }> = {
  '~standard': {
    version: 1,
    vendor: 'consumer',
    validate: (value) =>
      typeof value === 'object' && value !== null && typeof (value as { who?: unknown }).who === 'string'
        ? { value: value as { who: string } }
        : { issues: [{ message: 'who must be a string', path: ['who'] }] },
  },
};

const greet = defineFlow({
  name: 'greet',
  input: who,
  async run(ctx, input) {
    const text = await ctx.step('hello', () => `hello, ${input.who}`);
    return { text, length: text.length };
  },
});

const engine = createEngine({ flows: [greet], clock: new OffsetClock() });
await engine.start();
const handle = await engine.run('greet', { who: 'ts' });
const { text, length }: { text: string; length: number } = await handle.result();
const status: ExecutionStatus = (await engine.executions.get(handle.id)).status;

// @ts-expect-error the input's type comes from the schema
await engine.run('greet', { who: 1 }).catch(() => undefined);
const refused = await engine.run('greet', { who: 2 } as never).then(
  () => 'accepted',
  (err: unknown) => (err instanceof RetraceError ? err.code : 'not a RetraceError'),
);

const server = await createServer({ engine, auth: 'none', port: 0 });
const { url } = await server.listen();
const health = (await (await fetch(`${url}/healthz`)).json()) as { status: string };
await server.close();
await engine.stop();

console.log(JSON.stringify({ via: 'ts', output: text, length, status, refused, health: health.status }));
