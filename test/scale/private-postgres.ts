/**
 * A throwaway PostgreSQL server of the test's own (initdb into a temp dir, a free port on
 * 127.0.0.1), so that a test can restart a real server without disturbing the shared one that
 * other tests (and other processes on the machine) are using. Uses the Debian server binaries
 * (`/usr/lib/postgresql/<version>/bin`); run as root, the server runs as the `postgres` user,
 * since PostgreSQL refuses to run as root.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions[0]) {
    throw new Error(`No PostgreSQL server binaries under ${root}: install the Debian package postgresql`);
  }
  return join(root, versions[0], 'bin');
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export class PrivatePostgres {
  readonly #dir: string;
  readonly #bin: string;
  readonly #asPostgres: boolean;
  readonly port: number;

  private constructor(dir: string, bin: string, port: number) {
    this.#dir = dir;
    this.#bin = bin;
    this.port = port;
    this.#asPostgres = process.getuid?.() === 0;
  }

  /** Makes the cluster and starts it. About a second or two. */
  static async start(): Promise<PrivatePostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'retrace-pg-'));
    const server = new PrivatePostgres(dir, binDir(), await freePort());
    if (server.#asPostgres) chownSync(dir, ...(await postgresIds()));
    await server.#pg('initdb', ['-D', server.#data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    await server.#ctl('start');
    return server;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  get #data(): string {
    return join(this.#dir, 'data');
  }

  /**
   * A real restart: a fast shutdown (every session is ended, a checkpoint), `downMs` with no
   * server at all (connections are refused), and a start.
   */
  async restart(downMs = 0): Promise<void> {
    await this.#ctl('stop', ['-m', 'fast']);
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.#ctl('start');
  }

  async stop(): Promise<void> {
    await this.#ctl('stop', ['-m', 'immediate']).catch(() => undefined);
    rmSync(this.#dir, { recursive: true, force: true });
  }

  async #ctl(action: string, extra: string[] = []): Promise<void> {
    const options = `-p ${this.port} -k ${this.#dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60`;
    await this.#pg('pg_ctl', [
      action,
      '-w',
      '-t',
      '60',
      '-D',
      this.#data,
      '-l',
      join(this.#dir, 'log'),
      '-o',
      options,
      ...extra,
    ]);
  }

  async #pg(tool: string, args: string[]): Promise<void> {
    const path = join(this.#bin, tool);
    const [file, argv] = this.#asPostgres ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
    await run(file, argv, { timeout: 90_000 });
  }
}

async function postgresIds(): Promise<[number, number]> {
  const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
  return [uid, gid];
}
