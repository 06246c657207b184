/**
 * Real services for integration tests, started on demand at most once per mocha run (on free
 * loopback ports, state in one temp dir) and stopped by the root hook in tests/setup.ts. Every
 * broker and database speaks TLS only, with a certificate from one CA generated for the run.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalActiveMq, ActiveMqOptions } from '../../scripts/services/activemq';
import { LocalMariaDb, MariaDbOptions } from '../../scripts/services/mariadb';
import { LocalS3, S3Options } from '../../scripts/services/s3';
import { ensureLocalTls, LocalTls } from '../../scripts/services/tls';

let root: string | undefined;
let activeMq: Promise<LocalActiveMq> | undefined;
let mariaDb: Promise<LocalMariaDb> | undefined;
let s3: Promise<LocalS3> | undefined;
const extraBrokers: LocalActiveMq[] = [];
const extraServices: Array<{ stop(): Promise<void> }> = [];

export function servicesRoot(): string {
  root ??= fs.mkdtempSync(path.join(os.tmpdir(), 'grading-services-'));
  return root;
}

/** The run's CA and the server certificate every local broker and database presents. */
export function servicesTls(): LocalTls {
  return ensureLocalTls(path.join(servicesRoot(), 'tls'));
}

/** The shared broker. Tests must use their own queue names or drain what they use. */
export function sharedActiveMq(): Promise<LocalActiveMq> {
  activeMq ??= LocalActiveMq.create({ dir: path.join(servicesRoot(), 'activemq'), tls: servicesTls() });
  return activeMq;
}

/** A private broker (e.g. with short redelivery delays, or to restart without disturbing others). */
export async function privateActiveMq(name: string, opts: Omit<ActiveMqOptions, 'dir' | 'tls'> = {}): Promise<LocalActiveMq> {
  const broker = await LocalActiveMq.create({ ...opts, dir: path.join(servicesRoot(), `activemq-${name}`), tls: servicesTls() });
  extraBrokers.push(broker);
  return broker;
}

/**
 * A private database, for tests that stop and start it (fault injection). Migrated (`npm run db:migrate`'s
 * schema steps) unless `migrate: false`, for tests of the migration itself or of an unmigrated database.
 */
export async function privateMariaDb(
  name: string,
  opts: Omit<MariaDbOptions, 'dir' | 'tls'> & { migrate?: boolean } = {},
): Promise<LocalMariaDb> {
  const { migrate = true, ...dbOptions } = opts;
  const db = await LocalMariaDb.create({ ...dbOptions, dir: path.join(servicesRoot(), `mariadb-${name}`), tls: servicesTls() });
  extraServices.push(db);
  if (migrate) await db.migrate();
  return db;
}

export async function privateS3(name: string, opts: Omit<S3Options, 'dir'> = {}): Promise<LocalS3> {
  const s3 = await LocalS3.create({ ...opts, dir: path.join(servicesRoot(), `s3-${name}`) });
  extraServices.push(s3);
  return s3;
}

/** The shared database, migrated once (as the deploy's `npm run db:migrate` would) before anyone uses it. */
export function sharedMariaDb(): Promise<LocalMariaDb> {
  mariaDb ??= LocalMariaDb.create({ dir: path.join(servicesRoot(), 'mariadb'), tls: servicesTls() }).then(async (db) => {
    await db.migrate();
    return db;
  });
  return mariaDb;
}

export function sharedS3(): Promise<LocalS3> {
  s3 ??= LocalS3.create({ dir: path.join(servicesRoot(), 's3') });
  return s3;
}

export async function stopAllServices(): Promise<void> {
  const stops: Array<Promise<void>> = [...extraBrokers, ...extraServices].map((b) => b.stop().catch(() => undefined));
  for (const pending of [activeMq, mariaDb, s3]) {
    if (pending) stops.push(pending.then((service) => service.stop()).catch(() => undefined));
  }
  await Promise.all(stops);
  if (root && !process.env.KEEP_SERVICE_STATE) fs.rmSync(root, { recursive: true, force: true });
  root = activeMq = mariaDb = s3 = undefined;
  extraBrokers.length = 0;
  extraServices.length = 0;
}
