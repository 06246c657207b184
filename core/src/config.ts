/**
 * Connection settings every process reads from its environment (broker, database, bucket,
 * destinations): plain values locally, SSM parameter names in AWS (read once at start, decrypted).
 * Every missing or invalid setting is reported at once. The worker adds its executor settings
 * (worker/src/config.ts); the gateway parses only these, so the image's EXECUTOR=judge0 never makes
 * it demand a Judge0 endpoint.
 */
import * as fs from 'node:fs';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { parseEndpoints, StompEndpoint } from './queue/stomp';

export interface MqSettings {
  endpoints: StompEndpoint[];
  username?: string;
  password?: string;
  /** PEM CA bundle the broker's certificate must chain to (MQ_TLS_CA); absent: Node's public CAs (Amazon MQ). */
  ca?: string;
}

export interface DbSettings {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  /**
   * PEM CA bundle the server's certificate must chain to (DB_TLS_CA). Absent: the Amazon RDS CA bundle mysql2
   * ships (Node's trust store lacks it). TLS is always on: RDS runs with require_secure_transport, and so does
   * the local MariaDB.
   */
  ca?: string;
}

export interface ConnectionSettings {
  environment: string;
  region: string;
  mq: MqSettings;
  db: DbSettings;
  s3: { bucket: string; endpoint?: string; forcePathStyle: boolean };
  queues: { requests: string; priority: string; results: string; dlq: string; progress: string };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;
/** A value given either plainly or as the name of the SSM parameter holding it. */
export type SsmBackedSetting = [plain: string, param: string];

/** Broker and database: what both the worker and the gateway read. */
export const CONNECTION_PARAMETERS: SsmBackedSetting[] = [
  ['MQ_ENDPOINTS', 'MQ_ENDPOINT_PARAM'],
  ['MQ_USERNAME', 'MQ_USERNAME_PARAM'],
  ['MQ_PASSWORD', 'MQ_PASSWORD_PARAM'],
  ['DB_HOST', 'DB_ENDPOINT_PARAM'],
  ['DB_USERNAME', 'DB_USERNAME_PARAM'],
  ['DB_PASSWORD', 'DB_PASSWORD_PARAM'],
];

/** Fills plain values from SSM where only a parameter name is given (only the settings listed). */
export async function resolveSsmParameters(env: Env, client: SSMClient | undefined, settings: SsmBackedSetting[]): Promise<Env> {
  const wanted = settings.filter(([plain, param]) => !env[plain] && env[param]).map(([plain, param]) => [plain, env[param]!] as const);
  if (wanted.length === 0) return env;
  const ssm = client ?? new SSMClient({ region: env.AWS_REGION });
  const names = [...new Set(wanted.map(([, name]) => name))];
  const values = new Map<string, string>();
  const invalid: string[] = [];
  // GetParameters takes at most 10 names per call.
  for (let i = 0; i < names.length; i += 10) {
    const page = await ssm.send(new GetParametersCommand({ Names: names.slice(i, i + 10), WithDecryption: true }));
    for (const p of page.Parameters ?? []) values.set(p.Name!, p.Value!);
    invalid.push(...(page.InvalidParameters ?? []));
  }
  if (invalid.length) {
    throw new ConfigError(invalid.map((name) => `SSM parameter ${name} does not exist or is not readable by this task's role`));
  }
  const resolved = { ...env };
  for (const [plain, name] of wanted) resolved[plain] = values.get(name);
  return resolved;
}

/** Readers that collect problems instead of throwing, so every bad setting is reported at once. */
export function envReader(env: Env, problems: string[]) {
  return {
    required(name: string, hint: string): string {
      const value = env[name];
      if (!value) problems.push(`${name} is required (${hint})`);
      return value ?? '';
    },
    integer(name: string, fallback: number, min: number, max: number): number {
      const raw = env[name];
      if (raw === undefined || raw === '') return fallback;
      const n = Number(raw);
      if (!Number.isInteger(n) || n < min || n > max) {
        problems.push(`${name} must be an integer ${min}..${max} (got "${raw}")`);
        return fallback;
      }
      return n;
    },
    /** A PEM CA bundle named by a path; undefined when the variable is unset. */
    caBundle(name: string): string | undefined {
      const file = env[name];
      if (!file) return undefined;
      let pem: string;
      try {
        pem = fs.readFileSync(file, 'utf8');
      } catch (error) {
        problems.push(`${name}: cannot read the CA bundle ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
        return undefined;
      }
      if (!pem.includes('-----BEGIN CERTIFICATE-----')) problems.push(`${name}: ${file} holds no PEM certificate`);
      return pem;
    },
  };
}

/** Broker, database, bucket and destinations (worker and gateway alike). */
export function parseConnectionSettings(env: Env, problems: string[]): ConnectionSettings {
  const read = envReader(env, problems);
  let endpoints: StompEndpoint[] = [];
  const endpointList = read.required('MQ_ENDPOINTS', 'or MQ_ENDPOINT_PARAM naming the SSM parameter, e.g. /production/mq/broker-endpoint');
  if (endpointList) {
    try {
      endpoints = parseEndpoints(endpointList);
    } catch (error) {
      problems.push(`MQ_ENDPOINTS: ${(error as Error).message}`);
    }
    const plain = endpoints.filter((e) => !e.ssl);
    if (plain.length) {
      // Amazon MQ offers STOMP only over TLS (61614); a plain connection would send the password in clear.
      const hosts = plain.map((e) => `${e.host}:${e.port}`).join(', ');
      problems.push(`MQ_ENDPOINTS: plain STOMP is refused (${hosts}); use stomp+ssl://host:port`);
    }
  }
  if (env.DB_SSL && env.DB_SSL !== 'true') {
    problems.push(`DB_SSL=${env.DB_SSL} is refused: the database connection always uses TLS (DB_TLS_CA names a CA bundle)`);
  }
  const dbHostPort = read.required('DB_HOST', 'or DB_ENDPOINT_PARAM');
  const [dbHost, dbPortFromHost] = dbHostPort.split(':');
  return {
    environment: env.ENVIRONMENT ?? 'local',
    region: env.AWS_REGION ?? 'us-east-1',
    mq: { endpoints, username: env.MQ_USERNAME, password: env.MQ_PASSWORD, ca: read.caBundle('MQ_TLS_CA') },
    db: {
      host: dbHost,
      port: read.integer('DB_PORT', Number(dbPortFromHost ?? 3306), 1, 65535),
      database: env.DB_NAME ?? 'grading',
      user: read.required('DB_USERNAME', 'or DB_USERNAME_PARAM'),
      password: read.required('DB_PASSWORD', 'or DB_PASSWORD_PARAM'),
      ca: read.caBundle('DB_TLS_CA'),
    },
    s3: {
      bucket: read.required('GRADING_BUCKET', 'the grading bucket name'),
      endpoint: env.S3_ENDPOINT || undefined,
      forcePathStyle: env.S3_FORCE_PATH_STYLE === 'true',
    },
    queues: {
      requests: `/queue/${env.QUEUE_NAME ?? 'grading-requests'}`,
      priority: `/queue/${env.PRIORITY_QUEUE_NAME ?? 'grading-priority'}`,
      results: `/queue/${env.RESULTS_QUEUE_NAME ?? 'grading-results'}`,
      dlq: `/queue/${env.DLQ_NAME ?? 'grading-dlq'}`,
      progress: `/topic/${env.PROGRESS_TOPIC ?? 'grading-progress'}`,
    },
  };
}
