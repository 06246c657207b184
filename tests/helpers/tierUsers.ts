/**
 * Least-privilege users for the end-to-end stacks: a master user like RDS's (made over the root
 * socket), the deploy-time migration run as it, and per-tier broker users in BROKER_GROUPS, so the
 * gateway and the worker run with exactly the rights production gives them.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { BROKER_GROUPS, BROKER_USERS, LocalBrokerUser } from '../../components/brokerXml';
import type { LocalMariaDb } from '../../scripts/services/mariadb';
import { migrateDatabase } from '../../web/src/db/migrate';
import { servicesTls } from './services';

export const MASTER_USER = { username: 'master_user', password: 'master-password-123' };

/** What an RDS master user may do on `database` (all of it, with GRANT OPTION, and CREATE USER). */
export function createMasterUser(db: LocalMariaDb, database: string, user: { username: string; password: string } = MASTER_USER): void {
  const q = (value: string) => value.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  const account = `'${q(user.username)}'@'127.0.0.1'`;
  const sql = [
    `CREATE DATABASE IF NOT EXISTS \`${database}\``,
    `CREATE USER IF NOT EXISTS ${account} IDENTIFIED BY '${q(user.password)}'`,
    `GRANT ALL PRIVILEGES ON \`${database}\`.* TO ${account} WITH GRANT OPTION`,
    `GRANT CREATE USER ON *.* TO ${account}`,
  ].join(';\n');
  execFileSync('/usr/bin/mariadb', ['--no-defaults', `--socket=${db.socket}`, '-uroot'], { input: sql, stdio: ['pipe', 'pipe', 'pipe'] });
}

export const E2E_BROKER_USERS: LocalBrokerUser[] = [
  { username: BROKER_USERS.gateway, password: 'e2e-gateway-broker-password', groups: [BROKER_GROUPS.gateways] },
  { username: BROKER_USERS.worker, password: 'e2e-worker-broker-password', groups: [BROKER_GROUPS.workers] },
];

const GATEWAY_DB = { username: 'e2e_gateway', password: 'e2e-gateway-db-password-0123' };
const WORKER_DB = { username: 'e2e_worker', password: 'e2e-worker-db-password-0123' };

/** Runs the migration on the stack's database; returns the env each tier connects with. */
export async function migrateForTiers(db: LocalMariaDb): Promise<{ gateway: Record<string, string>; worker: Record<string, string> }> {
  createMasterUser(db, db.database);
  await migrateDatabase({
    host: '127.0.0.1',
    port: db.port,
    database: db.database,
    master: MASTER_USER,
    gateway: GATEWAY_DB,
    worker: WORKER_DB,
    ca: fs.readFileSync(servicesTls().caFile, 'utf8'),
  });
  const [gatewayMq, workerMq] = E2E_BROKER_USERS;
  return {
    gateway: {
      MQ_USERNAME: gatewayMq.username,
      MQ_PASSWORD: gatewayMq.password,
      DB_USERNAME: GATEWAY_DB.username,
      DB_PASSWORD: GATEWAY_DB.password,
    },
    worker: {
      MQ_USERNAME: workerMq.username,
      MQ_PASSWORD: workerMq.password,
      DB_USERNAME: WORKER_DB.username,
      DB_PASSWORD: WORKER_DB.password,
    },
  };
}
