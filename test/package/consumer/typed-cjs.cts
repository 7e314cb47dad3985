// The same package from a CommonJS TypeScript file: `import … = require()` compiles to a
// require() of the package's ES modules, which Node does from 20.19 and TypeScript types from
// 5.8 under `module: nodenext`.
import retrace = require('retrace-engine');

const greet = retrace.defineFlow({
  name: 'greet',
  run: (ctx, input: { who: string }) => ctx.step('hello', () => `hello, ${input.who}`),
});
const engine = retrace.createEngine({ flows: [greet] });
void (async () => {
  await engine.start();
  const output: string = await (await engine.run('greet', { who: 'cts' })).result();
  console.log(JSON.stringify({ via: 'cts', output }));
  await engine.stop();
})();
