/**
 * `retrace` from the TypeScript sources, as a real process (`node --import tsx` this file
 * <args>): the same main() bin/retrace.js runs from dist/, for tests of commands that must not
 * wait for a build (test/cli/systems.test.ts).
 */
import { main } from '../../src/cli/main.js';

await main();
