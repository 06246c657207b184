/**
 * Gateway settings from env vars. Connection settings use the worker's names (WORKER_ENV): the
 * plain value locally, or the name of an SSM parameter (read WithDecryption at start) on AWS;
 * the plain value wins when both are set. Every problem is reported at once.
 */
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { PROGRESS_TOPIC, QUEUES } from '../../components/brokerXml';
import { DEFAULT_MAX_SOURCE_BYTES } from './validation';

export interface GatewayConfig {
  environment: string;
  region: string;
  port: number;
  host: string;
  mq: { endpoints: string; username?: string; password?: string };
  db: { host: string; port: number; database: string; username: string; password: string };
  s3: { bucket: string; endpoint?: string; forcePathStyle: boolean };
  destinations: { requests: string; priority: string; progress: string };
  maxSourceBytes: number;
  userRateLimit: { capacity: number; refillPerSecond: number };
  debounceWindowMs: number;
  heartbeatMs: number;
  trustProxy: boolean;
  corsOrigins: string[];
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
}

export type ParameterReader = (name: string) => Promise<string>;

type Env = Record<string, string | undefined>;

export async function gatewayConfigFromEnv(env: Env = process.env, readParameter?: ParameterReader): Promise<GatewayConfig> {
  const problems: string[] = [];
  const region = env.AWS_REGION || 'us-east-1';
  const reader = readParameter ?? ssmReader(region);

  /** Plain var, else the SSM parameter its *_PARAM var names, else undefined. */
  const secret = async (plain: string, param: string, required: boolean): Promise<string | undefined> => {
    if (env[plain]) return env[plain];
    if (env[param]) {
      try {
        return await reader(env[param]!);
      } catch (error) {
        problems.push(`${param}: could not read SSM parameter ${env[param]} (${(error as Error).message})`);
        return undefined;
      }
    }
    if (required) problems.push(`${plain} (or ${param}) is required`);
    return undefined;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer ${min}..${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  };
  const bool = (name: string): boolean => {
    const raw = (env[name] ?? '').toLowerCase();
    if (['', 'false', '0', 'no'].includes(raw)) return false;
    if (['true', '1', 'yes'].includes(raw)) return true;
    problems.push(`${name} must be true or false (got "${env[name]}")`);
    return false;
  };

  const [endpoints, mqUser, mqPassword, dbEndpoint, dbUser, dbPassword] = await Promise.all([
    secret('MQ_ENDPOINTS', 'MQ_ENDPOINT_PARAM', true),
    secret('MQ_USERNAME', 'MQ_USERNAME_PARAM', false),
    secret('MQ_PASSWORD', 'MQ_PASSWORD_PARAM', false),
    env.DB_HOST ? Promise.resolve(env.DB_PORT ? `${env.DB_HOST}:${env.DB_PORT}` : env.DB_HOST) : secret('DB_HOST', 'DB_ENDPOINT_PARAM', true),
    secret('DB_USERNAME', 'DB_USERNAME_PARAM', true),
    secret('DB_PASSWORD', 'DB_PASSWORD_PARAM', true),
  ]);
  const [dbHost, dbPortText] = (dbEndpoint ?? '').split(':');
  const dbPort = dbPortText ? Number(dbPortText) : 3306;
  if (dbEndpoint && (!Number.isInteger(dbPort) || dbPort < 1 || dbPort > 65535)) problems.push(`DB port must be 1..65535 (got "${dbPortText}")`);
  if (!env.GRADING_BUCKET) problems.push('GRADING_BUCKET is required');

  const logLevel = (env.GRADING_LOG_LEVEL || 'info') as GatewayConfig['logLevel'];
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(logLevel)) problems.push(`GRADING_LOG_LEVEL must be debug, info, warn, error or silent (got "${logLevel}")`);

  const config: GatewayConfig = {
    environment: env.ENVIRONMENT || 'local',
    region,
    port: int('PORT', 3000, 0, 65535),
    host: env.HOST || '0.0.0.0',
    mq: { endpoints: endpoints ?? '', username: mqUser, password: mqPassword },
    db: { host: dbHost, port: dbPort, database: env.DB_NAME || 'grading', username: dbUser ?? '', password: dbPassword ?? '' },
    s3: { bucket: env.GRADING_BUCKET ?? '', endpoint: env.S3_ENDPOINT || undefined, forcePathStyle: bool('S3_FORCE_PATH_STYLE') },
    destinations: {
      requests: `/queue/${env.QUEUE_NAME || QUEUES.requests}`,
      priority: `/queue/${env.PRIORITY_QUEUE_NAME || QUEUES.priority}`,
      progress: `/topic/${env.PROGRESS_TOPIC || PROGRESS_TOPIC}`,
    },
    maxSourceBytes: int('MAX_SOURCE_BYTES', DEFAULT_MAX_SOURCE_BYTES, 1024, 1024 * 1024),
    userRateLimit: { capacity: int('RATE_LIMIT_BURST', 5, 1, 10_000), refillPerSecond: int('RATE_LIMIT_PER_MINUTE', 10, 1, 600_000) / 60 },
    debounceWindowMs: int('DEBOUNCE_MS', 5000, 0, 600_000),
    heartbeatMs: int('SSE_HEARTBEAT_MS', 15_000, 1000, 600_000),
    trustProxy: bool('TRUST_PROXY'),
    corsOrigins: (env.CORS_ORIGINS ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    logLevel,
  };
  if (problems.length) throw new Error(`Invalid gateway configuration:\n  - ${problems.join('\n  - ')}`);
  return config;
}

function ssmReader(region: string): ParameterReader {
  let client: SSMClient | undefined;
  return async (name) => {
    client ??= new SSMClient({ region });
    const out = await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    if (!out.Parameter?.Value) throw new Error('empty parameter');
    return out.Parameter.Value;
  };
}
