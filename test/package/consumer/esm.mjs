import { createEngine, defineFlow } from 'retrace-engine';

const greet = defineFlow({ name: 'greet', run: (ctx, input) => ctx.step('hello', () => `hello, ${input.who}`) });
const engine = createEngine({ flows: [greet] });
await engine.start();
const handle = await engine.run('greet', { who: 'esm' });
console.log(JSON.stringify({ via: 'esm', output: await handle.result() }));
await engine.stop();
