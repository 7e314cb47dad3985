/**
 * docs/dependencies.md justifies every dependency, one line each: this keeps it in step with
 * package.json in both directions, so a package cannot be added without a reason written down,
 * nor the page go on justifying one that is gone.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
};
const doc = readFileSync(join(ROOT, 'docs', 'dependencies.md'), 'utf8');

/** The package names of the `- \`name\`: why` lines of one `## …` section. */
function documented(sectionTitle: string): { name: string; reason: string }[] {
  const start = doc.indexOf(`\n## ${sectionTitle}`);
  assert.notEqual(start, -1, `docs/dependencies.md has no "## ${sectionTitle}" section`);
  const next = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, next === -1 ? undefined : next);
  return [...section.matchAll(/^- `([^`]+)`:(.*)$/gm)].map((m) => ({ name: m[1]!, reason: m[2]!.trim() }));
}

describe('docs/dependencies.md', () => {
  for (const [title, field] of [
    ['Runtime (`dependencies`)', 'dependencies'],
    ['Development (`devDependencies`)', 'devDependencies'],
  ] as const) {
    it(`has exactly one justified line per package in ${field}`, () => {
      const lines = documented(title);
      const names = lines.map((l) => l.name).sort();
      assert.deepEqual(names, Object.keys(pkg[field] ?? {}).sort(), `edit "## ${title}" in docs/dependencies.md`);
      assert.equal(new Set(names).size, names.length, 'a package is listed twice');
      for (const line of lines) assert.ok(line.reason.length >= 10, `${line.name} needs a reason, not just a name`);
    });
  }
});
