/**
 * Deploy-time database step, run as the master user: apply the missing numbered schema steps
 * (core/src/db/migrations.ts, recorded in schema_migrations), then one database user per tier with
 * exactly the table privileges of grants.ts. Running it again applies no step: passwords are set again
 * and the grants are rebuilt from nothing, so a privilege removed here is removed from the server too.
 */
import mysql, { Connection } from 'mysql2/promise';
import { applyMigrations, LATEST_VERSION } from '../../../core/src/db/migrations';
import { mysqlTls } from '../../../core/src/results/mysqlStore';
import { GATEWAY_GRANTS, WORKER_GRANTS } from './grants';

export interface TierUser {
  username: string;
  password: string;
}

export interface MigrationOptions {
  host: string;
  port: number;
  database: string;
  /** The master user: used only here, never by a running gateway or worker. */
  master: TierUser;
  gateway: TierUser;
  worker: TierUser;
  /**
   * PEM CA bundle the server's certificate must chain to (DB_TLS_CA); absent: mysql2's Amazon RDS bundle.
   * The connection is always TLS, as the worker's and the gateway's are, and the tier users REQUIRE SSL.
   */
  ca?: string;
  /** Host part of the tier users. Default '%' (tasks and instances have changing addresses). */
  userHost?: string;
}

const USERNAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;

export function checkMigrationOptions(o: MigrationOptions): string[] {
  const problems: string[] = [];
  for (const [tier, user] of [
    ['master', o.master],
    ['gateway', o.gateway],
    ['worker', o.worker],
  ] as const) {
    if (!user.username || !USERNAME_PATTERN.test(user.username))
      problems.push(`the ${tier} user name must be 1-32 letters, digits or _ starting with a letter (got "${user.username ?? ''}")`);
    if (!user.password) problems.push(`the ${tier} user's password is required`);
    else if (tier !== 'master' && user.password.length < 16) problems.push(`the ${tier} user's password must be at least 16 characters`);
  }
  if (o.gateway.username && o.gateway.username === o.worker.username)
    problems.push('the gateway and the worker need different database users');
  if (o.master.username && [o.gateway.username, o.worker.username].includes(o.master.username))
    problems.push('a tier user must not be the master user');
  if (!/^[A-Za-z0-9_]{1,64}$/.test(o.database)) problems.push(`the database name must be letters, digits or _ (got "${o.database}")`);
  return problems;
}

/** Applies the missing schema steps, then the tier users and their grants. Returns what it did, one line per step. */
export async function migrateDatabase(o: MigrationOptions): Promise<string[]> {
  const problems = checkMigrationOptions(o);
  if (problems.length) throw new Error(`Invalid database migration settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  const done: string[] = [];
  const connection = await mysql.createConnection({
    host: o.host,
    port: o.port,
    database: o.database,
    user: o.master.username,
    password: o.master.password,
    ssl: mysqlTls(o.ca),
    connectTimeout: 10_000,
  });
  try {
    const applied = await applyMigrations(connection);
    for (const step of applied) done.push(`step ${step.version}: ${step.name}`);
    if (!applied.length) done.push(`schema already at step ${LATEST_VERSION}`);
    await createTierUser(connection, o, o.gateway, GATEWAY_GRANTS);
    done.push(`user ${o.gateway.username}: ${GATEWAY_GRANTS.map(([t, p]) => `${t} ${p}`).join('; ')}`);
    await createTierUser(connection, o, o.worker, WORKER_GRANTS);
    done.push(`user ${o.worker.username}: ${WORKER_GRANTS.map(([t, p]) => `${t} ${p}`).join('; ')}`);
  } finally {
    await connection.end();
  }
  return done;
}

async function createTierUser(connection: Connection, o: MigrationOptions, user: TierUser, grants: Array<[string, string]>): Promise<void> {
  const account = `${connection.escape(user.username)}@${connection.escape(o.userHost ?? '%')}`;
  const tls = ' REQUIRE SSL';
  await connection.query(`CREATE USER IF NOT EXISTS ${account} IDENTIFIED BY ${connection.escape(user.password)}${tls}`);
  await connection.query(`ALTER USER ${account} IDENTIFIED BY ${connection.escape(user.password)}${tls}`);
  // Start from nothing, so the grants below are all the user has.
  await connection.query(`REVOKE ALL PRIVILEGES, GRANT OPTION FROM ${account}`);
  const db = connection.escapeId(o.database);
  for (const [table, privileges] of grants) {
    await connection.query(`GRANT ${privileges} ON ${db}.${connection.escapeId(table)} TO ${account}`);
  }
}
