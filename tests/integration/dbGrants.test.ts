/**
 * The deploy-time migration on real MariaDB: a master user with what an RDS master has (all on the
 * database with GRANT OPTION, CREATE USER) runs it; then the gateway's and the worker's users can do
 * their jobs and nothing else (a gateway user cannot UPDATE grading_results).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import mysql, { Connection } from 'mysql2/promise';
import type { LocalMariaDb } from '../../scripts/services/mariadb';
import { main as dbCli } from '../../web/src/db/cli';
import { checkMigrationOptions } from '../../web/src/db/migrate';
import { MysqlReviewStore } from '../../web/src/review/store';
import { MysqlStreamTicketStore } from '../../web/src/streamTickets';
import { MysqlSubmissionIndex } from '../../web/src/submissionIndex';
import { MysqlResultStore } from '../../core/src/results/mysqlStore';
import { servicesTls, sharedMariaDb } from '../helpers/services';
import { createMasterUser, MASTER_USER } from '../helpers/tierUsers';

const caPem = () => fs.readFileSync(servicesTls().caFile, 'utf8');

const DATABASE = 'grants_test';
const MASTER = MASTER_USER;
const GATEWAY = { username: 'gateway_app', password: 'gateway-password-0123456789' };
const WORKER = { username: 'worker_app', password: 'worker-password-0123456789' };

describe('database users per tier (migration and grants on MariaDB)', function () {
  this.timeout(60_000);
  let db: LocalMariaDb;
  const connect = (user: { username: string; password: string }): Promise<Connection> =>
    mysql.createConnection({
      host: '127.0.0.1',
      port: db.port,
      user: user.username,
      password: user.password,
      database: DATABASE,
      ssl: { ca: caPem() },
    });
  const denied = async (conn: Connection, sql: string, params: unknown[] = []) => {
    await assert.rejects(conn.query(sql, params), (e: { code?: string }) => /DENIED/.test(e.code ?? ''), sql);
  };

  before(async function () {
    this.timeout(120_000);
    db = await sharedMariaDb();
    createMasterUser(db, DATABASE);
    const env = {
      DB_HOST: `127.0.0.1:${db.port}`,
      DB_NAME: DATABASE,
      DB_MASTER_USERNAME: MASTER.username,
      DB_MASTER_PASSWORD: MASTER.password,
      GATEWAY_DB_USERNAME: GATEWAY.username,
      GATEWAY_DB_PASSWORD: GATEWAY.password,
      WORKER_DB_USERNAME: WORKER.username,
      WORKER_DB_PASSWORD: WORKER.password,
      DB_TLS_CA: servicesTls().caFile,
    };
    assert.equal(await dbCli(['migrate'], env), 0);
    // Again: idempotent, and the grants are rebuilt rather than added to.
    assert.equal(await dbCli(['migrate'], env), 0);
  });

  it('lets the worker check the schema version, write results and read them, and nothing else (no DDL)', async () => {
    const store = await MysqlResultStore.connect({
      host: '127.0.0.1',
      port: db.port,
      database: DATABASE,
      user: WORKER.username,
      password: WORKER.password,
      ca: caPem(),
    });
    try {
      const meta = { requestId: 'req_grants_1', userId: 'u1', problemId: 'sum', language: 'python' };
      assert.equal(await store.beginAttempt(meta), 1);
      await store.saveResult(meta, {
        requestId: meta.requestId,
        status: 'completed',
        result: { verdict: 'AC', score: 100, executionTime: 1, memoryUsage: 1, testResults: [] },
        timestamp: new Date().toISOString(),
      });
      assert.equal((await store.get(meta.requestId))?.status, 'completed');
    } finally {
      await store.close();
    }
    const conn = await connect(WORKER);
    try {
      await denied(conn, 'SELECT * FROM submissions');
      await denied(conn, 'SELECT * FROM submission_reviews');
      await denied(conn, 'DELETE FROM grading_results');
      await denied(conn, 'DROP TABLE grading_results');
      await denied(conn, 'CREATE TABLE other (id INT)');
      await denied(conn, 'CREATE TABLE IF NOT EXISTS grading_results (x INT)');
      await denied(conn, "INSERT INTO schema_migrations (version, name) VALUES (999, 'forged')");
    } finally {
      await conn.end();
    }
  });

  it('lets the gateway read results and use its own tables, but never change results or the schema', async () => {
    const store = await MysqlResultStore.connect({
      host: '127.0.0.1',
      port: db.port,
      database: DATABASE,
      user: GATEWAY.username,
      password: GATEWAY.password,
      who: 'the gateway',
      ca: caPem(),
    });
    try {
      assert.equal((await store.get('req_grants_1'))?.status, 'completed');
      const index = new MysqlSubmissionIndex(store.pool);
      await index.check();
      const createdAt = new Date().toISOString();
      await index.record({ requestId: 'req_grants_1', userId: 'u1', problemId: 'sum', language: 'python', priority: false, createdAt });
      await index.record({
        requestId: 'req_grants_2',
        userId: 'u1',
        problemId: 'sum',
        language: 'c',
        priority: false,
        createdAt: new Date(Date.now() + 1).toISOString(),
      });
      assert.equal(await index.owner('req_grants_1'), 'u1');
      const page = await index.list('u1', { limit: 1 });
      assert.deepEqual(
        page.submissions.map((s) => [s.requestId, s.status]),
        [['req_grants_2', 'pending']],
      );
      const next = await index.list('u1', { limit: 1, cursor: page.nextCursor });
      assert.deepEqual(
        next.submissions.map((s) => [s.requestId, s.status, s.verdict]),
        [['req_grants_1', 'completed', 'AC']],
      );
      assert.equal(next.nextCursor, undefined);
      await index.forget('req_grants_2');

      // The daily review budget holds across two gateway instances (two stores, one table).
      const [a, b] = [await MysqlReviewStore.create(store.pool), await MysqlReviewStore.create(store.pool)];
      const day = new Date('2031-05-05T12:00:00Z');
      const granted = await Promise.all([a, b, a, b, a].map((s) => s.reserveModelCall(3, day)));
      assert.equal(granted.filter(Boolean).length, 3);

      // Stream tickets: issued by one instance, redeemed by another, for one submission, until they expire.
      const tickets = new MysqlStreamTicketStore(store.pool);
      const ticket = await tickets.issue('u1', 'req_grants_1', 60);
      assert.equal(await new MysqlStreamTicketStore(store.pool).redeem(ticket, 'req_grants_1'), 'u1');
      assert.equal(await tickets.redeem(ticket, 'req_grants_2'), undefined);
      assert.equal(await tickets.redeem('x'.repeat(43), 'req_grants_1'), undefined);
      const shortLived = await tickets.issue('u1', 'req_grants_1', 0);
      assert.equal(await tickets.redeem(shortLived, 'req_grants_1'), undefined, 'expired at once');
      const [rows] = await store.pool.query('SELECT ticket_hash FROM stream_tickets');
      assert.ok(!JSON.stringify(rows).includes(ticket), 'only the hash is stored');
    } finally {
      await store.close();
    }
    const conn = await connect(GATEWAY);
    try {
      await denied(conn, "UPDATE grading_results SET status = 'completed', verdict = 'AC'");
      await denied(conn, "INSERT INTO grading_results (request_id) VALUES ('req_forged')");
      await denied(conn, 'DELETE FROM grading_results');
      await denied(conn, 'CREATE TABLE IF NOT EXISTS grading_results (x INT)');
      await denied(conn, 'DROP TABLE submissions');
      await denied(conn, 'DELETE FROM schema_migrations');
      await denied(conn, 'ALTER TABLE submissions ADD COLUMN x INT');
      await denied(conn, 'UPDATE submissions SET user_id = ?', ['someone_else']);
      await denied(conn, 'SELECT * FROM mysql.user');
    } finally {
      await conn.end();
    }
  });

  it('refuses bad settings before touching the server, naming each', async () => {
    assert.equal(await dbCli(['migrate'], { DB_HOST: '127.0.0.1' }), 1);
    const problems = checkMigrationOptions({
      host: '127.0.0.1',
      port: db.port,
      database: DATABASE,
      master: MASTER,
      gateway: { username: MASTER.username, password: 'short' },
      worker: { username: MASTER.username, password: WORKER.password },
    });
    assert.deepEqual(problems, [
      "the gateway user's password must be at least 16 characters",
      'the gateway and the worker need different database users',
      'a tier user must not be the master user',
    ]);
  });
});
