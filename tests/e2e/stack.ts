/**
 * The system end to end for the e2e suites: a private ActiveMQ (so no other suite's worker takes
 * these requests), the shared MariaDB and s3rver, the sample problems seeded, the real worker
 * (child process, local sandbox) and gateway instances in this process.
 */
import type { LocalBrokerUser } from '../../components/brokerXml';
import type { LocalActiveMq } from '../../scripts/services/activemq';
import type { LocalMariaDb } from '../../scripts/services/mariadb';
import type { LocalS3 } from '../../scripts/services/s3';
import { seedProblems } from '../../scripts/local';
import { parseGatewayConfig } from '../../web/src/config';
import { RunningGateway, startGateway } from '../../web/src/wiring';
import { privateActiveMq, sharedMariaDb, sharedS3 } from '../helpers/services';
import { startWorker, WorkerProcess } from '../helpers/workerHarness';

export interface E2eStack {
  broker: LocalActiveMq;
  db: LocalMariaDb;
  s3: LocalS3;
  worker: WorkerProcess;
  /** Starts one more gateway instance (extra env: gateway settings such as RATE_LIMIT_BURST). */
  gateway(extraEnv?: Record<string, string>): Promise<RunningGateway>;
  stop(): Promise<void>;
}

export interface E2eStackOptions {
  /** More broker users (e.g. per-tier users with BROKER_GROUPS). */
  brokerUsers?: LocalBrokerUser[];
  /** Runs before the worker starts; what it returns is added to the worker's env (e.g. its own users). */
  prepare?: (services: { broker: LocalActiveMq; db: LocalMariaDb }) => Promise<Record<string, string>>;
}

export async function startE2eStack(name: string, opts: E2eStackOptions = {}): Promise<E2eStack> {
  const [broker, db, s3] = await Promise.all([privateActiveMq(name, { users: opts.brokerUsers }), sharedMariaDb(), sharedS3()]);
  // The in-process gateways' S3 client reads credentials the standard way (env), as on AWS.
  const savedCredentials = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  process.env.AWS_ACCESS_KEY_ID = s3.env().AWS_ACCESS_KEY_ID;
  process.env.AWS_SECRET_ACCESS_KEY = s3.env().AWS_SECRET_ACCESS_KEY;
  await seedProblems(s3.env());
  const worker = await startWorker({ broker, db, s3 }, opts.prepare ? await opts.prepare({ broker, db }) : {});
  const gateways: RunningGateway[] = [];
  return {
    broker,
    db,
    s3,
    worker,
    async gateway(extraEnv = {}) {
      const config = parseGatewayConfig({ ...broker.env(), ...db.env(), ...s3.env(), PORT: '0', HOST: '127.0.0.1', ...extraEnv });
      const running = await startGateway(config);
      gateways.push(running);
      return running;
    },
    async stop() {
      await Promise.all(gateways.map((g) => g.close()));
      await worker.stop();
      await broker.stop();
      restore('AWS_ACCESS_KEY_ID', savedCredentials.id);
      restore('AWS_SECRET_ACCESS_KEY', savedCredentials.secret);
    },
  };
}

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
