/**
 * The result store against real MariaDB: a final result is written once (a later failure never
 * replaces `completed`), the published mark, fingerprints, and the versioned migration of a table
 * created by a release before migrations were numbered.
 */
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import type { GradingResult } from '../../core/src/contracts';
import { MIGRATIONS, SchemaNotMigratedError } from '../../core/src/db/migrations';
import { MysqlResultStore } from '../../core/src/results/mysqlStore';
import type { LocalMariaDb } from '../../scripts/services/mariadb';
import { privateMariaDb, sharedMariaDb } from '../helpers/services';
import { dbRows } from '../helpers/workerHarness';

const connectStore = (db: LocalMariaDb, connectionLimit?: number) =>
  MysqlResultStore.connect({
    host: '127.0.0.1',
    port: db.port,
    database: db.database,
    user: db.username,
    password: db.password,
    ca: db.connectionOptions().ssl.ca,
    connectionLimit,
  });
const completed = (requestId: string): GradingResult => ({
  requestId,
  status: 'completed',
  result: { verdict: 'AC', score: 100, executionTime: 12, memoryUsage: 4, testResults: [{ case: 1, status: 'AC', time: 12, memory: 4 }] },
  timestamp: '2026-01-01T00:00:01.000Z',
});
const failed = (requestId: string): GradingResult => ({
  requestId,
  status: 'failed',
  reason: 'internal-error',
  error: 'internal-error: boom',
  timestamp: '2026-01-01T00:00:02.000Z',
});

describe('MySQL result store', function () {
  this.timeout(120_000);
  let db: LocalMariaDb;
  let store: MysqlResultStore;
  const id = () => `req_store_${Math.random().toString(36).slice(2, 12)}`;

  before(async () => {
    db = await sharedMariaDb();
    store = await connectStore(db);
  });
  after(() => store?.close());

  it('never replaces a final result: a failure after `completed` keeps `completed`', async () => {
    const requestId = id();
    const meta = {
      requestId,
      userId: 'u',
      problemId: 'sum',
      language: 'python',
      requestHash: 'a'.repeat(64),
      sourceSha256: 'b'.repeat(64),
    };
    assert.equal(await store.beginAttempt(meta), 1);
    assert.deepEqual(await store.saveResult(meta, completed(requestId), 'c'.repeat(64)), completed(requestId));
    const kept = await store.saveResult({ ...meta, requestHash: 'd'.repeat(64) }, failed(requestId));
    assert.deepEqual(kept, completed(requestId), 'the stored result is returned, not the new one');
    const [row] = await dbRows(db, requestId);
    assert.equal(row.status, 'completed');
    assert.equal(row.verdict, 'AC');
    assert.equal(row.error, null);
    assert.equal(row.cache_key, 'c'.repeat(64));
    assert.equal(row.request_hash, 'a'.repeat(64), 'the first request keeps its fingerprint');
    assert.deepEqual(await store.get(requestId), completed(requestId));
  });

  it('counts attempts and reports who stored the final result in one statement each, whatever ran before on the connection', async () => {
    // One connection, so every statement sees what the previous one left in LAST_INSERT_ID.
    const single = await connectStore(db, 1);
    try {
      const [a, b] = [id(), id()];
      const metaA = { requestId: a, requestHash: 'a'.repeat(64) };
      assert.deepEqual([await single.beginAttempt(metaA), await single.beginAttempt(metaA), await single.beginAttempt(metaA)], [1, 2, 3]);
      // A new row right after a count of 3: its own result, not a stale marker.
      assert.deepEqual(await single.saveResult({ requestId: b }, failed(b)), failed(b));
      assert.deepEqual(await single.saveResult({ requestId: b }, completed(b)), failed(b), 'the first final result stays');
      assert.deepEqual(await single.saveResult(metaA, completed(a)), completed(a));
      assert.deepEqual(await single.saveResult(metaA, failed(a)), completed(a));
      const [row] = await dbRows(db, a);
      assert.equal(row.attempts, 3, 'storing a result leaves the attempt count alone');
      assert.equal(await single.beginAttempt({ requestId: b }), 2, 'a row first written by saveResult counts as one attempt');
    } finally {
      await single.close();
    }
  });

  it('keeps the first of two failures too, and records fingerprints and the published mark', async () => {
    const requestId = id();
    const meta = { requestId, requestHash: 'e'.repeat(64) };
    assert.deepEqual(await store.saveResult(meta, failed(requestId)), failed(requestId));
    const second = { ...failed(requestId), error: 'internal-error: other', timestamp: '2026-01-01T00:00:03.000Z' };
    assert.deepEqual(await store.saveResult(meta, second), failed(requestId));
    let record = await store.getRecord(requestId);
    assert.equal(record?.status, 'failed');
    assert.equal(record?.requestHash, 'e'.repeat(64));
    assert.equal(record?.sourceSha256, null);
    assert.equal(record?.published, false);
    await store.markPublished(requestId);
    record = await store.getRecord(requestId);
    assert.equal(record?.published, true);
    assert.deepEqual(record?.document, failed(requestId));
  });

  it('migrates a table of a release before numbered steps: adds the new columns, counts finished rows as published', async () => {
    const old = await privateMariaDb('store-migration', { migrate: false });
    const conn = await mysql.createConnection({
      host: '127.0.0.1',
      port: old.port,
      user: old.username,
      password: old.password,
      database: old.database,
      ssl: old.connectionOptions().ssl,
    });
    try {
      // The previous release's table, as its CREATE TABLE made it.
      await conn.query(`CREATE TABLE grading_results (
        request_id VARCHAR(64) NOT NULL PRIMARY KEY, user_id VARCHAR(128) NULL, problem_id VARCHAR(64) NULL, language VARCHAR(16) NULL,
        status VARCHAR(16) NOT NULL DEFAULT 'pending', verdict VARCHAR(4) NULL, score DECIMAL(5,2) NULL, execution_time_ms INT NULL,
        memory_mb DECIMAL(8,1) NULL, test_results JSON NULL, result_json JSON NULL, error TEXT NULL, cache_key CHAR(64) NULL,
        attempts INT NOT NULL DEFAULT 0, created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3), completed_at TIMESTAMP(3) NULL,
        KEY idx_cache (cache_key, status), KEY idx_user (user_id, created_at)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
      await conn.execute(
        "INSERT INTO grading_results (request_id, status, result_json, attempts, completed_at) VALUES ('req_old_done', 'completed', ?, 1, NOW(3))",
        [JSON.stringify(completed('req_old_done'))],
      );
      await conn.execute("INSERT INTO grading_results (request_id, status, attempts) VALUES ('req_old_pending', 'pending', 1)");
      // The store runs no DDL: it refuses the database until the migration has run.
      await assert.rejects(connectStore(old), (e: Error) => {
        return e instanceof SchemaNotMigratedError && /migration step 1 \(grading_results table\)/.test(e.message);
      });
      const applied = await old.migrate();
      const all = MIGRATIONS.map((m) => m.version);
      assert.deepEqual(
        applied.map((m) => m.version),
        all,
        'no step recorded yet: all of them run (each tolerates the old table)',
      );
      const migrated = await connectStore(old);
      try {
        assert.equal((await migrated.getRecord('req_old_done'))?.published, true, 'finished before the column existed: already published');
        assert.equal((await migrated.getRecord('req_old_pending'))?.published, false);
        assert.equal((await migrated.getRecord('req_old_done'))?.requestHash, null);
      } finally {
        await migrated.close();
      }
      // A second migration finds every step recorded and changes nothing.
      assert.deepEqual(await old.migrate(), []);
      await (await connectStore(old)).close();
    } finally {
      await conn.end();
    }
  });
});
