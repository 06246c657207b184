/**
 * Gateway settings from env vars. Broker, database, bucket and destination settings are the
 * worker's, read by the worker's own parser (same names, same SSM `*_PARAM` indirection, same
 * defaults: WORKER_ENV); the gateway adds its HTTP settings. Every problem is reported at once.
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import { parseWorkerConfig, resolveSsmParameters, WorkerConfig, WorkerConfigError } from '../../worker/src/config';
import { DEFAULT_MAX_SOURCE_BYTES } from './validation';
import { presenceSettingsFromEnv } from './workerPresence';

export interface GatewayConfig {
  environment: string;
  region: string;
  port: number;
  host: string;
  mq: WorkerConfig['mq'];
  db: WorkerConfig['db'];
  s3: WorkerConfig['s3'];
  destinations: { requests: string; priority: string; progress: string };
  maxSourceBytes: number;
  userRateLimit: { capacity: number; refillPerSecond: number };
  debounceWindowMs: number;
  heartbeatMs: number;
  trustProxy: boolean;
  corsOrigins: string[];
  /** The web page's files; default web/public next to the sources (or the compiled tree). */
  publicDir?: string;
  /** Worker heartbeats: topic and how long a worker counts after its last beat. */
  presence: { windowMs: number; topic: string };
  /** Code review: an OpenAI-compatible endpoint. Unset fields leave review switched off (503 naming them). */
  review: {
    baseUrl?: string;
    model?: string;
    apiKey?: string;
    timeoutMs: number;
    userRateLimit: { capacity: number; refillPerSecond: number };
  };
}

type Env = Record<string, string | undefined>;

/** Resolves SSM parameter names (WithDecryption), then parses. */
export async function gatewayConfigFromEnv(env: Env = process.env, ssm?: SSMClient): Promise<GatewayConfig> {
  let resolved: Env;
  try {
    // In AWS the review key comes from the SecureString /<env>/review/api-key (REVIEW_API_KEY_PARAM).
    resolved = await resolveSsmParameters(env, ssm, [['REVIEW_API_KEY', 'REVIEW_API_KEY_PARAM']]);
  } catch (error) {
    if (error instanceof WorkerConfigError) throw gatewayError(error.problems);
    throw error;
  }
  return parseGatewayConfig(resolved);
}

export function parseGatewayConfig(env: Env): GatewayConfig {
  const problems: string[] = [];
  let shared: WorkerConfig | undefined;
  try {
    shared = parseWorkerConfig(env);
  } catch (error) {
    if (!(error instanceof WorkerConfigError)) throw error;
    problems.push(...error.problems);
  }
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

  const port = int('PORT', 3000, 0, 65535);
  const maxSourceBytes = int('MAX_SOURCE_BYTES', DEFAULT_MAX_SOURCE_BYTES, 1024, 1024 * 1024);
  const burst = int('RATE_LIMIT_BURST', 5, 1, 10_000);
  const perMinute = int('RATE_LIMIT_PER_MINUTE', 10, 1, 600_000);
  const debounceWindowMs = int('DEBOUNCE_MS', 5000, 0, 600_000);
  const heartbeatMs = int('SSE_HEARTBEAT_MS', 15_000, 1000, 600_000);
  const trustProxy = bool('TRUST_PROXY');
  const reviewTimeoutMs = int('REVIEW_TIMEOUT_MS', 60_000, 1000, 600_000);
  const reviewBurst = int('REVIEW_RATE_LIMIT_BURST', 3, 1, 1000);
  const reviewsPerHour = int('REVIEW_RATE_LIMIT_PER_HOUR', 10, 1, 100_000);
  const reviewBaseUrl = env.REVIEW_BASE_URL || undefined;
  if (reviewBaseUrl && !/^https?:\/\/[^\s]+$/.test(reviewBaseUrl)) problems.push(`REVIEW_BASE_URL must be an http(s) URL such as https://api.openai.com/v1 (got "${reviewBaseUrl}")`);
  if (problems.length || !shared) throw gatewayError(problems);

  return {
    environment: shared.environment,
    region: shared.region,
    port,
    host: env.HOST || '0.0.0.0',
    mq: shared.mq,
    db: shared.db,
    s3: shared.s3,
    destinations: { requests: shared.queues.requests, priority: shared.queues.priority, progress: shared.queues.progress },
    maxSourceBytes,
    userRateLimit: { capacity: burst, refillPerSecond: perMinute / 60 },
    debounceWindowMs,
    heartbeatMs,
    trustProxy,
    corsOrigins: (env.CORS_ORIGINS ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    publicDir: env.WEB_PUBLIC_DIR || undefined,
    presence: presenceSettingsFromEnv(env),
    review: {
      baseUrl: reviewBaseUrl,
      model: env.REVIEW_MODEL || undefined,
      apiKey: env.REVIEW_API_KEY || undefined,
      timeoutMs: reviewTimeoutMs,
      userRateLimit: { capacity: reviewBurst, refillPerSecond: reviewsPerHour / 3600 },
    },
  };
}

function gatewayError(problems: string[]): Error {
  return new Error(`Invalid gateway configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}
