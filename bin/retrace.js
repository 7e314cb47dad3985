#!/usr/bin/env node
// The `retrace` command. The sources are TypeScript, run through tsx, which also lets the
// user's flows module and retrace.config.ts be TypeScript without a build step. Both hooks are
// registered: without the CommonJS one, a .ts file in a package that is not "type": "module"
// cannot be imported at all.
import { register as registerCjs } from 'tsx/cjs/api';
import { register } from 'tsx/esm/api';

register();
registerCjs();
const { main } = await import('../src/cli/main.ts');
await main();
