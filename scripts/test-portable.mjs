// `npm run test:portable`: the portability tier, what CI runs on its second Node (24) after
// the whole suite has passed on Node 20. It is every test file (test/*/*.test.ts, new folders
// included) except those below, which test nothing a Node version can change that the rest
// does not test too:
//   test/browser/   the dashboard in Chromium: the browser's side of pages whose server side
//                   (HTTP, sessions, CSRF, live updates) test/server/ checks on each Node
//   test/scale/     load and many worker processes on PostgreSQL and a million-row store: the
//                   engine's own logic at volume; processes, SIGKILL and the pg driver are
//                   covered by test/crash/, test/cli/ and test/store/
//   the random soak (test/crash/random-soak.test.ts): more random kills of the same child the
//                   crash matrix and the wait-crash arms kill at every named point
// What can differ between Node versions is kept: the native module (better-sqlite3 built for
// that Node; every SQLite test), Node's APIs (node:test, streams, http, crypto, timers, fs),
// the package as built and installed (test/package/, the consumer test), and process handling
// (the CLI as real processes, signals, crash children killed and restarted).
// Arguments are passed on to node --test (e.g. --test-reporter=tap); `--list` prints the files.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const LEFT_OUT = [/^test\/browser\//, /^test\/scale\//, /^test\/crash\/random-soak\.test\.ts$/];

const files = readdirSync(join(root, 'test'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) =>
    readdirSync(join(root, 'test', d.name))
      .filter((name) => name.endsWith('.test.ts'))
      .map((name) => `test/${d.name}/${name}`),
  )
  .filter((file) => !LEFT_OUT.some((pattern) => pattern.test(file)))
  .sort();

if (process.argv.includes('--list')) {
  console.log(files.join('\n'));
  process.exit(0);
}
const { status, signal } = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', ...process.argv.slice(2), ...files],
  { cwd: root, stdio: 'inherit' },
);
process.exit(status ?? (signal ? 1 : 0));
