/**
 * Real services for integration tests, started on demand at most once per mocha run (on free
 * loopback ports, state in one temp dir) and stopped by the root hook in tests/setup.ts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalActiveMq, ActiveMqOptions } from '../../scripts/services/activemq';
import { LocalMariaDb } from '../../scripts/services/mariadb';
import { LocalS3 } from '../../scripts/services/s3';

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

/** The shared broker. Tests must use their own queue names or drain what they use. */
export function sharedActiveMq(): Promise<LocalActiveMq> {
  activeMq ??= LocalActiveMq.create({ dir: path.join(servicesRoot(), 'activemq') });
  return activeMq;
}

/** A private broker (e.g. with short redelivery delays, or to restart without disturbing others). */
export async function privateActiveMq(name: string, opts: Omit<ActiveMqOptions, 'dir'> = {}): Promise<LocalActiveMq> {
  const broker = await LocalActiveMq.create({ ...opts, dir: path.join(servicesRoot(), `activemq-${name}`) });
  extraBrokers.push(broker);
  return broker;
}

/** A private database or S3 server, for tests that stop and start it (fault injection). */
export async function privateMariaDb(name: string): Promise<LocalMariaDb> {
  const db = await LocalMariaDb.create({ dir: path.join(servicesRoot(), `mariadb-${name}`) });
  extraServices.push(db);
  return db;
}

export async function privateS3(name: string): Promise<LocalS3> {
  const s3 = await LocalS3.create({ dir: path.join(servicesRoot(), `s3-${name}`) });
  extraServices.push(s3);
  return s3;
}

export function sharedMariaDb(): Promise<LocalMariaDb> {
  mariaDb ??= LocalMariaDb.create({ dir: path.join(servicesRoot(), 'mariadb') });
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
