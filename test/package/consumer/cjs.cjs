const { createEngine, defineFlow } = require('retrace-engine');
const greet = defineFlow({ name: 'greet', run: (ctx, input) => ctx.step('hello', () => `hello, ${input.who}`) });
const engine = createEngine({ flows: [greet] });
void (async () => {
  await engine.start();
  const handle = await engine.run('greet', { who: 'cjs' });
  console.log(JSON.stringify({ via: 'cjs', output: await handle.result() }));
  await engine.stop();
})();
