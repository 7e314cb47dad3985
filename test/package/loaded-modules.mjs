// Run by lazy-drivers.test.ts with plain node: loads one entry of the built package by its
// name (a package may import itself through its `exports`), optionally opens a store, and
// prints as JSON the entry's export names and the npm packages now loaded.
//
//   node test/package/loaded-modules.mjs <specifier> <import|require> [sqlite|postgres]
//
// Loaded packages are read from the CommonJS module cache, which also holds CommonJS modules
// reached by `import` from ESM: the drivers (pg, better-sqlite3) and the server stack
// (fastify, mercurius, graphql, prom-client) are all CommonJS, so none can load unseen.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [specifier, how, open] = process.argv.slice(2);
if (!specifier || (how !== 'import' && how !== 'require')) {
  console.error('usage: loaded-modules.mjs <specifier> <import|require> [sqlite|postgres]');
  process.exit(2);
}

// require() of an ES module graph fails (ERR_REQUIRE_ASYNC_MODULE) if it has top-level await.
const entry = how === 'require' ? require(specifier) : await import(specifier);

let openError;
if (open === 'sqlite') {
  const store = entry.openStore('sqlite::memory:');
  await store.init();
  await store.close();
} else if (open === 'postgres') {
  // Nothing listens on port 1: init() loads the driver, then fails to connect, quickly.
  const store = new entry.PostgresStore({
    connectionString: 'postgres://nobody@127.0.0.1:1/none',
    connectionTimeoutMs: 2000,
  });
  openError = await store.init().then(
    () => 'connected',
    (err) => err.code ?? err.message,
  );
  await store.close();
} else if (open !== undefined) {
  console.error(`unknown store kind ${JSON.stringify(open)}: use sqlite or postgres`);
  process.exit(2);
}

const packages = new Set();
for (const file of Object.keys(require.cache)) {
  const parts = file.split(/[\\/]node_modules[\\/]/);
  if (parts.length < 2) continue;
  const rest = parts.at(-1).split(/[\\/]/);
  packages.add(rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]);
}
console.log(JSON.stringify({ exports: Object.keys(entry).sort(), packages: [...packages].sort(), openError }));
