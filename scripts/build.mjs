// Builds the package: TypeScript to dist/ (ESM, .d.ts, source maps), then the files the code
// reads at run time beside it (SQL migrations, the GraphQL SDL, the dashboard's own script and
// stylesheet), which tsc does not copy.
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ASSETS = /\.(sql|graphql)$/;
/** Folders copied whole: the dashboard's static files (plain JS and CSS, served as they are). */
const ASSET_DIRS = ['server/dashboard/assets'];

rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')],
  {
    stdio: 'inherit',
  },
);
let copied = 0;
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (ASSETS.test(name)) {
      cpSync(path, join(root, 'dist', relative(join(root, 'src'), path)));
      copied++;
    }
  }
};
walk(join(root, 'src'));
for (const dir of ASSET_DIRS) {
  for (const name of readdirSync(join(root, 'src', dir))) {
    cpSync(join(root, 'src', dir, name), join(root, 'dist', dir, name));
    copied++;
  }
}
console.log(`built dist/ (${copied} asset files copied)`);
