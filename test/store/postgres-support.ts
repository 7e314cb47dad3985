/**
 * Shared by the PostgreSQL store tests: where the server is, a clear failure when it is not
 * there, throwaway schemas, and a TCP proxy that counts round trips.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import pg from 'pg';

/** The test database: `DATABASE_URL`, or the local server's `test` database (user postgres, trust auth). */
export const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

const START_HINT =
  'Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start ' +
  '(then `createdb -h 127.0.0.1 -U postgres test` if the database is missing), or set DATABASE_URL.';

/** Fails (never skips) with how to start the server when it cannot be reached. */
export async function assertReachable(): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    throw new Error(
      `The PostgreSQL store tests need a server at ${DATABASE_URL}: ${(err as Error).message || String(err)}. ${START_HINT}`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A fresh schema name, so runs (and parallel test files) never share tables. */
export const randomSchema = (): string => `retrace_test_${randomBytes(5).toString('hex')}`;

/** Runs SQL on a connection of its own (not a store's pool). */
export async function adminQuery<R extends pg.QueryResultRow = Record<string, unknown>>(
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

export async function dropSchemas(schemas: string[]): Promise<void> {
  for (const schema of schemas.splice(0)) await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

/**
 * A TCP proxy in front of the server that counts round trips: each ReadyForQuery message
 * ('Z') the server sends ends one exchange (a simple query, or an extended-protocol
 * Parse/Bind/Execute/Sync sequence), and node-postgres waits for it before sending the next.
 */
export class RoundTripCounter {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #upstream: { host: string; port: number };
  roundTrips = 0;
  port = 0;

  constructor(upstreamUrl: string) {
    const url = new URL(upstreamUrl);
    this.#upstream = { host: url.hostname || '127.0.0.1', port: Number(url.port || 5432) };
    this.#server = createServer((client) => this.#pipe(client));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as { port: number }).port;
  }

  /** The connection string through the proxy. */
  url(upstreamUrl: string): string {
    const url = new URL(upstreamUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #pipe(client: Socket): void {
    const server = tcpConnect(this.#upstream);
    this.#sockets.add(client).add(server);
    client.pipe(server);
    // Server messages are framed as type (1 byte) + length (4 bytes, counting itself).
    let buffered = Buffer.alloc(0);
    server.on('data', (chunk: Buffer) => {
      client.write(chunk);
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 5) {
        const length = buffered.readUInt32BE(1);
        if (buffered.length < 1 + length) break;
        if (buffered[0] === 0x5a) this.roundTrips++;
        buffered = buffered.subarray(1 + length);
      }
    });
    const close = () => {
      client.destroy();
      server.destroy();
    };
    client.on('error', close).on('close', close);
    server.on('error', close).on('close', close);
  }
}
