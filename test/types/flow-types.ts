// Compile-time checks of the public types (run by `tsc --noEmit` over test/): input and output
// types flow from the schema and steps; wrong inputs and unknown flow names are type errors.
import { z } from 'zod';
import { createEngine, defineFlow } from '../../src/index.js';

const f = defineFlow({
  name: 'a',
  input: z.object({ id: z.string() }),
  async run(ctx, input) {
    const x = await ctx.step('s', () => ({ n: input.id.length }));
    return { n: x.n };
  },
});
const g = defineFlow({
  name: 'b',
  async run() {
    return 1;
  },
});
const e = createEngine({ flows: [f, g], store: 'sqlite::memory:' });
async function t() {
  const h = await e.run('a', { id: 'x' });
  const out = await h.result();
  const n: number = out.n;
  // @ts-expect-error wrong input type
  await e.run('a', { id: 1 });
  // @ts-expect-error unknown flow
  await e.run('zzz', {});
  const h2 = await e.run('b', {});
  const m: number = await h2.result();
  return [n, m];
}
export const checks = t;
