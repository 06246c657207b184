/**
 * The numbered schema steps (core/src/db/migrations.ts) on real MariaDB: applying them twice is a
 * no-op, a database at an older step gets only the missing ones, and a worker or gateway started
 * against an unmigrated database stops with a message naming the missing step.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import mysql, { Connection, RowDataPacket } from 'mysql2/promise';
import { applyMigrations, LATEST_VERSION, MIGRATIONS, requireMigrated, SchemaNotMigratedError } from '../../core/src/db/migrations';
import type { LocalMariaDb } from '../../scripts/services/mariadb';
import { parseGatewayConfig } from '../../web/src/config';
import { startGateway } from '../../web/src/wiring';
import { servicesTls, sharedActiveMq, sharedMariaDb, sharedS3 } from '../helpers/services';
import { createMasterUser, MASTER_USER } from '../helpers/tierUsers';
import { startWorker } from '../helpers/workerHarness';

describe('schema migrations (numbered steps, schema_migrations)', function () {
  this.timeout(120_000);
  let db: LocalMariaDb;
  const open: Connection[] = [];

  /** A fresh, empty database on the shared server, with a master user that owns it. */
  const freshDatabase = async (name: string): Promise<Connection> => {
    createMasterUser(db, name);
    const conn = await mysql.createConnection({
      host: '127.0.0.1',
      port: db.port,
      user: MASTER_USER.username,
      password: MASTER_USER.password,
      database: name,
      ssl: { ca: fs.readFileSync(servicesTls().caFile, 'utf8') },
    });
    await conn.query('DROP TABLE IF EXISTS schema_migrations');
    open.push(conn);
    return conn;
  };
  const tables = async (conn: Connection) => {
    const [rows] = await conn.query<RowDataPacket[]>(
      'SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1',
    );
    return rows.map((r) => String(r.t));
  };
  const recorded = async (conn: Connection) => {
    const [rows] = await conn.query<RowDataPacket[]>('SELECT version, name, applied_at FROM schema_migrations ORDER BY version');
    return rows.map((r) => ({ version: Number(r.version), name: String(r.name), appliedAt: new Date(r.applied_at).toISOString() }));
  };
  /** Env for a process that connects to `database` as the master user (so grants cannot be what fails). */
  const envFor = (database: string) => ({ DB_NAME: database, DB_USERNAME: MASTER_USER.username, DB_PASSWORD: MASTER_USER.password });

  before(async () => {
    db = await sharedMariaDb();
  });
  after(async () => {
    await Promise.all(open.map((c) => c.end().catch(() => undefined)));
  });

  it('numbers the steps 1, 2, 3, ... without gaps', () => {
    assert.deepEqual(
      MIGRATIONS.map((m) => m.version),
      MIGRATIONS.map((_, i) => i + 1),
    );
    assert.equal(LATEST_VERSION, MIGRATIONS.length);
  });

  it('applies every step on an empty database, and applying again is a no-op', async () => {
    const conn = await freshDatabase('mig_twice');
    await assert.rejects(requireMigrated(conn, 'the check'), SchemaNotMigratedError);
    const first = await applyMigrations(conn);
    assert.deepEqual(
      first.map((m) => m.version),
      MIGRATIONS.map((m) => m.version),
    );
    const [tablesAfter, recordedAfter] = [await tables(conn), await recorded(conn)];
    for (const table of [
      'grading_results',
      'submissions',
      'submission_reviews',
      'github_links',
      'submission_signals',
      'webhook_deliveries',
    ]) {
      assert.ok(tablesAfter.includes(table), `${table} exists`);
    }
    assert.deepEqual(await applyMigrations(conn), [], 'nothing left to apply');
    assert.deepEqual(await tables(conn), tablesAfter);
    assert.deepEqual(await recorded(conn), recordedAfter, 'no step recorded twice or again');
    await requireMigrated(conn, 'the check');
  });

  it('gives a database at an older step only the missing steps', async () => {
    const conn = await freshDatabase('mig_older');
    const older = MIGRATIONS.slice(0, 3);
    await applyMigrations(conn, older);
    assert.ok(!(await tables(conn)).includes('webhook_deliveries'), 'step 5 not applied yet');
    await assert.rejects(
      requireMigrated(conn, 'the gateway'),
      (e: Error) =>
        /the gateway: the database lacks migration step 4 \(/.test(e.message) &&
        new RegExp(`${LATEST_VERSION - 4} later step`).test(e.message),
    );
    const before = await recorded(conn);
    const applied = await applyMigrations(conn);
    assert.deepEqual(
      applied.map((m) => m.version),
      MIGRATIONS.slice(3).map((m) => m.version),
    );
    assert.deepEqual(applied[0].version, 4);
    assert.deepEqual((await recorded(conn)).slice(0, 3), before, 'the older steps are not run again');
    for (const table of ['webhook_deliveries', 'submission_webhooks', 'code_runs']) assert.ok((await tables(conn)).includes(table), table);
  });

  it('two migrators at once (two worker tasks starting) apply each step exactly once between them', async () => {
    const first = await freshDatabase('mig_race');
    const second = await mysql.createConnection({ ...first.config, ssl: { ca: fs.readFileSync(servicesTls().caFile, 'utf8') } });
    open.push(second);
    const [a, b] = await Promise.all([applyMigrations(first), applyMigrations(second)]);
    assert.deepEqual(
      [...a, ...b].map((m) => m.version).sort((x, y) => x - y),
      MIGRATIONS.map((m) => m.version),
    );
    assert.equal((await recorded(first)).length, MIGRATIONS.length);
  });

  it('tells a tier user made before numbered steps (no SELECT on schema_migrations) to run the migration', async () => {
    const master = await freshDatabase('mig_old_grants');
    await applyMigrations(master);
    await master.query("CREATE USER IF NOT EXISTS 'old_tier'@'127.0.0.1' IDENTIFIED BY 'old-tier-password-0123'");
    await master.query("GRANT SELECT ON mig_old_grants.grading_results TO 'old_tier'@'127.0.0.1'");
    const old = await mysql.createConnection({
      ...master.config,
      user: 'old_tier',
      password: 'old-tier-password-0123',
      ssl: master.config.ssl,
    });
    open.push(old);
    await assert.rejects(
      requireMigrated(old, 'the worker'),
      /^Error: the worker: cannot read schema_migrations .*run npm run db:migrate, which grants it$/,
    );
  });

  it('a worker against an unmigrated database exits naming the step and npm run db:migrate', async () => {
    await freshDatabase('mig_worker');
    const [broker, s3] = await Promise.all([sharedActiveMq(), sharedS3()]);
    await assert.rejects(startWorker({ broker, db, s3 }, envFor('mig_worker')), (e: Error) => {
      return (
        /worker exited \(1\) during start/.test(e.message) &&
        /the worker: the database lacks migration step 1 \(grading_results table\)/.test(e.message) &&
        /run npm run db:migrate/.test(e.message)
      );
    });
  });

  it('a gateway against an unmigrated database refuses to start, naming the step', async () => {
    await freshDatabase('mig_gateway');
    const [broker, s3] = await Promise.all([sharedActiveMq(), sharedS3()]);
    const config = parseGatewayConfig({
      ...broker.env(),
      ...db.env(),
      ...s3.env(),
      ...envFor('mig_gateway'),
      PORT: '0',
      HOST: '127.0.0.1',
      AUTH_MODE: 'none',
    });
    await assert.rejects(startGateway(config), (e: Error) =>
      /the gateway: the database lacks migration step 1 .*run npm run db:migrate/.test(e.message),
    );
  });
});
