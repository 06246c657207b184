/**
 * Runs the real worker (src/main.ts) as a child process against the test services, and seeds and
 * inspects what it works on: problems and sources in S3, requests on the broker, rows in MariaDB.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import mysql from 'mysql2/promise';
import type { LocalActiveMq } from '../../scripts/services/activemq';
import type { LocalMariaDb } from '../../scripts/services/mariadb';
import type { LocalS3 } from '../../scripts/services/s3';
import { extensionOf, Language } from '../../core/src/languages';

const ROOT = path.join(__dirname, '../..');

export function s3Client(s3: LocalS3): S3Client {
  const env = s3.env();
  return new S3Client({
    region: 'us-east-1',
    endpoint: env.S3_ENDPOINT,
    forcePathStyle: true,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  });
}

/** Uploads examples/problems/<id>/ to problems/<id>/ in the bucket. */
export async function seedProblems(s3: LocalS3): Promise<void> {
  const client = s3Client(s3);
  const base = path.join(ROOT, 'examples/problems');
  for (const problem of fs.readdirSync(base)) {
    const walk = (dir: string): string[] =>
      fs
        .readdirSync(dir, { withFileTypes: true })
        .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
    for (const file of walk(path.join(base, problem))) {
      await client.send(
        new PutObjectCommand({
          Bucket: s3.bucket,
          Key: `problems/${problem}/${path.relative(path.join(base, problem), file)}`,
          Body: fs.readFileSync(file),
        }),
      );
    }
  }
}

export interface SubmissionSpec {
  problemId: string;
  language: Language;
  source: string;
  requestId?: string;
  timeLimit?: number;
  memoryLimit?: number;
}

/** Stores the source and returns the grading request for it (pass `client` to reuse one across many). */
export async function prepareRequest(s3: LocalS3, spec: SubmissionSpec, client: S3Client = s3Client(s3)) {
  const requestId = spec.requestId ?? `req_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const key = `submissions/${requestId}/solution.${extensionOf(spec.language)}`;
  await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: spec.source }));
  return {
    requestId,
    userId: 'user_test',
    problemId: spec.problemId,
    language: spec.language,
    sourceFile: `s3://${s3.bucket}/${key}`,
    testCases: `s3://${s3.bucket}/problems/${spec.problemId}/testcases/`,
    timeLimit: spec.timeLimit ?? 2000,
    memoryLimit: spec.memoryLimit ?? 256,
    timestamp: new Date().toISOString(),
  };
}

export async function readS3Text(s3: LocalS3, key: string): Promise<string> {
  const object = await s3Client(s3).send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
  return object.Body!.transformToString('utf8');
}

export async function dbRows(db: LocalMariaDb, requestId: string): Promise<Array<Record<string, unknown>>> {
  const conn = await mysql.createConnection(db.connectionOptions());
  try {
    const [rows] = await conn.execute('SELECT * FROM grading_results WHERE request_id = ?', [requestId]);
    return rows as Array<Record<string, unknown>>;
  } catch (error) {
    if ((error as { code?: string }).code === 'ER_NO_SUCH_TABLE') return [];
    throw error;
  } finally {
    await conn.end();
  }
}

export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts src/main.ts in a child process; resolves once it logs "worker ready". */
export async function startWorker(
  services: { broker: LocalActiveMq; db: LocalMariaDb; s3: LocalS3 },
  extraEnv: Record<string, string> = {},
): Promise<WorkerProcess> {
  const env = {
    PATH: process.env.PATH!,
    ...services.broker.env(),
    ...services.db.env(),
    ...services.s3.env(),
    EXECUTOR: 'sandbox',
    SANDBOX_CONCURRENCY: '2',
    WORKER_CONCURRENCY: '2',
    HEALTH_PORT: '0',
    SHUTDOWN_GRACE_MS: '20000',
    GRADING_LOG_LEVEL: 'info',
    TESTCASE_CACHE_DIR: path.join(services.s3.dir, `cache-${randomUUID()}`),
    ...extraEnv,
  };
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', path.join(ROOT, 'worker/src/main.ts')], {
    env,
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${output}`)), 60_000);
    const check = () => {
      if (output.includes('"worker ready"')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited (${code}) during start:\n${output}`));
    });
  });
  return {
    child,
    output: () => output,
    stop: (signal: NodeJS.Signals = 'SIGTERM') =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      }),
  };
}
