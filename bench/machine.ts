/** What the figures were measured on: printed with every result, because they mean nothing without it. */
import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

export interface Filesystem {
  type: string;
  device: string;
  mountPoint: string;
}

export interface Machine {
  node: string;
  v8: string;
  platform: string;
  kernel: string;
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  /** 1, 5 and 15 minute load averages when the benchmark started: a busy machine shows here. */
  loadAverage: number[];
  sqlite: string;
  betterSqlite3: string;
  storeDir: string;
  filesystem: Filesystem | null;
  /** The engine measured: the commit, and whether src/ had uncommitted changes (tsx runs the working tree). */
  engine: { commit: string; srcDirty: boolean } | null;
}

export function describeMachine(storeDir: string): Machine {
  const require = createRequire(import.meta.url);
  const db = new Database(':memory:');
  const sqlite = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  db.close();
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform}/${process.arch}`,
    kernel: os.release(),
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    sqlite,
    betterSqlite3: (require('better-sqlite3/package.json') as { version: string }).version,
    storeDir,
    filesystem: filesystemOf(storeDir),
    engine: engineVersion(),
  };
}

function engineVersion(): Machine['engine'] {
  const repo = fileURLToPath(new URL('..', import.meta.url));
  try {
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim();
    return {
      commit: git('rev-parse', '--short=12', 'HEAD'),
      srcDirty: git('status', '--porcelain', '--', 'src') !== '',
    };
  } catch {
    return null; // not a git checkout, or no git
  }
}

/** The mount holding `dir` (longest mount point that prefixes it), from /proc/self/mounts; null off Linux. */
function filesystemOf(dir: string): Filesystem | null {
  let table: string;
  try {
    table = readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return null;
  }
  const path = realpathSync(dir);
  let best: Filesystem | null = null;
  for (const line of table.split('\n')) {
    const [device, rawMountPoint, type] = line.split(' ');
    if (!device || !rawMountPoint || !type) continue;
    // /proc/mounts escapes spaces and a few other characters as octal.
    const mountPoint = rawMountPoint.replace(/\\([0-7]{3})/g, (_, oct: string) =>
      String.fromCharCode(Number.parseInt(oct, 8)),
    );
    const holds = mountPoint === '/' || path === mountPoint || path.startsWith(`${mountPoint}/`);
    if (holds && (!best || mountPoint.length >= best.mountPoint.length)) best = { type, device, mountPoint };
  }
  return best;
}
