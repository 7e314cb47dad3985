#!/usr/bin/env node
// The `retrace` command: the compiled CLI in dist/ (built by `npm run build`, shipped in the
// package). Plain JavaScript so that starting it costs little more than starting Node; tsx is
// loaded later, and only to import a user's TypeScript flows module or config (src/cli/config.ts).
// No fallback to the TypeScript sources: that would hide a missing build behind a start-up
// several times slower, and run code other than what was built.
import { existsSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath } from 'node:url';

// Node 22.1+ keeps the compiled code of the modules it loads on disk (in the temporary folder)
// and reuses it on the next start; most of a command's start-up is compiling them. Older Nodes
// have no such function. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
module.enableCompileCache?.();

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(
    `error: the compiled CLI is missing (${fileURLToPath(entry)}): run npm run build in the Retrace folder first\n`,
  );
  process.exit(1);
}
const { main } = await import(entry.href);
await main();
