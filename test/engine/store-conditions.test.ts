/**
 * A store that answers but cannot take a write now (SQLite locked past its busy timeout, disk
 * full, I/O error; PostgreSQL's equivalents) is a passing condition: the write is retried until
 * it lands, run() refuses with STORE_BUSY (HTTP 503 with Retry-After), and no execution is left
 * running, leased to a worker that no longer runs it. Real SQLite locks from a second connection.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import { defineFlow, type Store, StoreBusyError, StoreWriteRefusedError } from '../../src/index.js';
import { sendError } from '../../src/server/http-errors.js';
import { classifyPostgresError } from '../../src/stores/postgres/pg-errors.js';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { startEngine, storeUrl, tempDir } from '../support/temp-engine.js';

const dir = tempDir();

/** Another process's connection to the same file, holding its write lock while asked. */
function locker(path: string) {
  const db = new Database(path);
  return {
    lock: () => db.exec('BEGIN IMMEDIATE'),
    unlock: () => db.exec('COMMIT'),
    close: () => db.close(),
  };
}

describe('a store that cannot take writes for a while', () => {
  it('retries a locked write until it lands: the execution finishes, claimed once, never handed back', async () => {
    const path = storeUrl(dir).slice('sqlite:'.length);
    const store = new SqliteStore({ path, busyTimeoutMs: 30 });
    let other: ReturnType<typeof locker> | undefined;
    const flow = defineFlow({
      name: 'locked-out',
      async run(ctx) {
        const a = await ctx.step('a', () => {
          // The file stays locked by another connection for far longer than the busy timeout.
          other = locker(path);
          other.lock();
          setTimeout(() => other?.unlock(), 400);
          return 1;
        });
        const b = await ctx.step('b', () => a + 1);
        return b;
      },
    });
    const engine = await startEngine({ flows: [flow], store });
    const errors: string[] = [];
    engine.on('engine:error', (e) => errors.push(`${e.context}: ${e.error.message}`));
    try {
      const h = await engine.run('locked-out', {});
      assert.equal(await h.result({ timeoutMs: 10_000 }), 2);
      const e = await engine.executions.get(h.id);
      assert.equal(e.claimCount, 1, 'not handed back and claimed again');
      assert.deepEqual(
        e.steps.map((s) => [s.name, s.status, s.attemptCount]),
        [
          ['a', 'succeeded', 1],
          ['b', 'succeeded', 1],
        ],
      );
      assert.ok(!errors.some((m) => m.startsWith('writing execution')), errors.join('\n'));
    } finally {
      other?.close();
    }
  });

  it('refuses run() with STORE_BUSY (retryAfterMs) while the file is locked, not the raw driver error', async () => {
    const path = storeUrl(dir).slice('sqlite:'.length);
    const flow = defineFlow({ name: 'busy-run', run: async () => 'ok' });
    const engine = await startEngine({ flows: [flow], store: new SqliteStore({ path, busyTimeoutMs: 30 }) });
    const other = locker(path);
    other.lock();
    try {
      await assert.rejects(engine.run('busy-run', {}), (err: unknown) => {
        assert.ok(err instanceof StoreBusyError, String(err));
        assert.equal(err.code, 'STORE_BUSY');
        assert.equal(err.reason, 'SQLITE_BUSY');
        assert.ok(err.retryAfterMs > 0);
        return true;
      });
    } finally {
      other.unlock();
      other.close();
    }
    assert.equal(await (await engine.run('busy-run', {})).result({ timeoutMs: 5000 }), 'ok', 'and works once unlocked');
  });

  it('fails an execution whose write the store refuses every time, instead of handing it back in a loop', async () => {
    const inner = new SqliteStore({ path: storeUrl(dir).slice('sqlite:'.length) });
    let refusals = 0;
    const store = new Proxy(inner, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop !== 'updateExecution') return typeof value === 'function' ? value.bind(target) : value;
        return (u: Parameters<Store['updateExecution']>[0]) => {
          // What an adapter answers for a value it can never hold (PostgreSQL 22P05, say).
          if (u.logs?.some((l) => l.message.includes('poison'))) {
            refusals++;
            return Promise.reject(new StoreWriteRefusedError('refused (22P05): bad text', { reason: '22P05' }));
          }
          return target.updateExecution(u);
        };
      },
    }) as Store;
    const flow = defineFlow({
      name: 'refused-write',
      async run(ctx) {
        await ctx.step('a', (s) => s.log.info('poison'));
        await ctx.step('b', () => 'never');
      },
    });
    const engine = await startEngine({ flows: [flow], store });
    const h = await engine.run('refused-write', {});
    await assert.rejects(h.result({ timeoutMs: 5000 }), { code: 'EXECUTION_FAILED' });
    const e = await engine.executions.get(h.id);
    assert.equal(e.error?.code, 'STORE_WRITE_REFUSED');
    assert.match(e.error?.message ?? '', /refused \(22P05\)/);
    assert.equal(e.claimCount, 1, 'failed where it was refused, not claimed again');
    assert.equal(refusals, 1);
    assert.deepEqual(
      e.steps.map((s) => [s.name, s.status]),
      [['a', 'failed']],
      'the step whose completion could not be recorded is settled, not left running',
    );
  });

  it('is answered over HTTP as 503 with a Retry-After header', async () => {
    const app = Fastify();
    app.setErrorHandler((error, _request, reply) => sendError(reply, error));
    app.get('/busy', async () => {
      throw new StoreBusyError('SQLite store x cannot take the write now (SQLITE_FULL)', {
        reason: 'SQLITE_FULL',
        retryAfterMs: 4500,
      });
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const response = await fetch(`${url}/busy`);
      assert.equal(response.status, 503);
      assert.equal(response.headers.get('retry-after'), '5');
      const body = (await response.json()) as { error: { code: string } };
      assert.equal(body.error.code, 'STORE_BUSY');
    } finally {
      await app.close();
    }
  });

  it("classifies PostgreSQL's passing conditions as busy and its data errors as refused", () => {
    const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code });
    for (const code of ['53100', '53200', '53300', '57P03', '40001', '40P01', '55P03', '25006']) {
      assert.equal((classifyPostgresError(pgError(code), 'db') as Error).name, 'StoreBusyError', code);
    }
    for (const code of ['22021', '22P05', '22P02', '23505']) {
      assert.equal((classifyPostgresError(pgError(code), 'db') as Error).name, 'StoreWriteRefusedError', code);
    }
    const syntax = pgError('42601');
    assert.equal(classifyPostgresError(syntax, 'db'), syntax, 'a bug passes through as it is');
  });
});
