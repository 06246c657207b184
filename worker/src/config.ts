/**
 * Worker settings from the environment (see docs/worker.md): plain values locally, SSM parameter
 * names in AWS (read once at start, decrypted). Every missing or invalid setting is reported at once.
 */
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { parseEndpoints, StompEndpoint } from './queue/stomp';

export interface WorkerConfig {
  environment: string;
  region: string;
  mq: { endpoints: StompEndpoint[]; username?: string; password?: string };
  db: { host: string; port: number; database: string; user: string; password: string; ssl: boolean };
  s3: { bucket: string; endpoint?: string; forcePathStyle: boolean };
  executor: { kind: 'sandbox' | 'judge0'; judge0Endpoint?: string; judge0AuthToken?: string };
  queues: { requests: string; priority: string; results: string; dlq: string; progress: string };
  concurrency: number;
  healthPort: number;
  shutdownGraceMs: number;
  maxAttempts: number;
  cacheDir: string;
}

export class WorkerConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid worker configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'WorkerConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** value: plain env var, or the SSM parameter named by `${name}_PARAM`. */
const SSM_BACKED = ['MQ_ENDPOINTS:MQ_ENDPOINT_PARAM', 'MQ_USERNAME:MQ_USERNAME_PARAM', 'MQ_PASSWORD:MQ_PASSWORD_PARAM', 'DB_HOST:DB_ENDPOINT_PARAM', 'DB_USERNAME:DB_USERNAME_PARAM', 'DB_PASSWORD:DB_PASSWORD_PARAM', 'JUDGE0_ENDPOINT:JUDGE0_ENDPOINT_PARAM', 'JUDGE0_AUTH_TOKEN:JUDGE0_AUTH_TOKEN_PARAM'].map((pair) => pair.split(':') as [string, string]);

/** Fills plain values from SSM where only a parameter name is given. */
export async function resolveSsmParameters(env: Env, client?: SSMClient, extra: Array<[plain: string, param: string]> = []): Promise<Env> {
  const wanted = [...SSM_BACKED, ...extra].filter(([plain, param]) => !env[plain] && env[param]).map(([plain, param]) => [plain, env[param]!] as const);
  if (wanted.length === 0) return env;
  const ssm = client ?? new SSMClient({ region: env.AWS_REGION });
  const names = [...new Set(wanted.map(([, name]) => name))];
  const values = new Map<string, string>();
  const invalid: string[] = [];
  for (let i = 0; i < names.length; i += 10) {
    const page = await ssm.send(new GetParametersCommand({ Names: names.slice(i, i + 10), WithDecryption: true }));
    for (const p of page.Parameters ?? []) values.set(p.Name!, p.Value!);
    invalid.push(...(page.InvalidParameters ?? []));
  }
  if (invalid.length) throw new WorkerConfigError(invalid.map((name) => `SSM parameter ${name} does not exist or is not readable by this task's role`));
  const resolved = { ...env };
  for (const [plain, name] of wanted) resolved[plain] = values.get(name);
  return resolved;
}

export function parseWorkerConfig(env: Env): WorkerConfig {
  const problems: string[] = [];
  const required = (name: string, hint: string) => {
    const value = env[name];
    if (!value) problems.push(`${name} is required (${hint})`);
    return value ?? '';
  };
  const integer = (name: string, fallback: number, min: number, max: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) problems.push(`${name} must be an integer ${min}..${max} (got "${raw}")`);
    return n;
  };

  let endpoints: StompEndpoint[] = [];
  const endpointList = required('MQ_ENDPOINTS', 'or MQ_ENDPOINT_PARAM naming the SSM parameter, e.g. /production/mq/broker-endpoint');
  if (endpointList) {
    try {
      endpoints = parseEndpoints(endpointList);
    } catch (error) {
      problems.push(`MQ_ENDPOINTS: ${(error as Error).message}`);
    }
  }
  const dbHostPort = required('DB_HOST', 'or DB_ENDPOINT_PARAM');
  const [dbHost, dbPortFromHost] = dbHostPort.split(':');
  const executorKind = env.EXECUTOR ?? 'sandbox';
  if (executorKind !== 'sandbox' && executorKind !== 'judge0') problems.push(`EXECUTOR must be sandbox or judge0 (got "${executorKind}")`);
  const judge0Endpoint = env.JUDGE0_ENDPOINT;
  if (executorKind === 'judge0' && !judge0Endpoint) problems.push('JUDGE0_ENDPOINT is required when EXECUTOR=judge0 (or JUDGE0_ENDPOINT_PARAM)');

  const config: WorkerConfig = {
    environment: env.ENVIRONMENT ?? 'local',
    region: env.AWS_REGION ?? 'us-east-1',
    mq: { endpoints, username: env.MQ_USERNAME, password: env.MQ_PASSWORD },
    db: {
      host: dbHost,
      port: integer('DB_PORT', Number(dbPortFromHost ?? 3306), 1, 65535),
      database: env.DB_NAME ?? 'grading',
      user: required('DB_USERNAME', 'or DB_USERNAME_PARAM'),
      password: required('DB_PASSWORD', 'or DB_PASSWORD_PARAM'),
      // Amazon RDS requires TLS; a loopback database (local stack) has none.
      ssl: env.DB_SSL ? env.DB_SSL === 'true' : !['127.0.0.1', 'localhost'].includes(dbHost),
    },
    s3: { bucket: required('GRADING_BUCKET', 'the grading bucket name'), endpoint: env.S3_ENDPOINT || undefined, forcePathStyle: env.S3_FORCE_PATH_STYLE === 'true' },
    executor: { kind: executorKind as 'sandbox' | 'judge0', judge0Endpoint, judge0AuthToken: env.JUDGE0_AUTH_TOKEN },
    queues: {
      requests: `/queue/${env.QUEUE_NAME ?? 'grading-requests'}`,
      priority: `/queue/${env.PRIORITY_QUEUE_NAME ?? 'grading-priority'}`,
      results: `/queue/${env.RESULTS_QUEUE_NAME ?? 'grading-results'}`,
      dlq: `/queue/${env.DLQ_NAME ?? 'grading-dlq'}`,
      progress: `/topic/${env.PROGRESS_TOPIC ?? 'grading-progress'}`,
    },
    concurrency: integer('WORKER_CONCURRENCY', 2, 1, 64),
    healthPort: integer('HEALTH_PORT', 8080, 0, 65535),
    shutdownGraceMs: integer('SHUTDOWN_GRACE_MS', 100_000, 0, 3_600_000),
    maxAttempts: integer('MAX_ATTEMPTS', 3, 1, 100),
    cacheDir: env.TESTCASE_CACHE_DIR ?? '/tmp/grading-testcases',
  };
  if (problems.length) throw new WorkerConfigError(problems);
  return config;
}
