/**
 * Gateway settings from env vars. Broker, database, bucket and destination settings are the
 * worker's connection settings (same names, same SSM `*_PARAM` indirection, same defaults), read by
 * the worker's parseConnectionSettings and nothing more: the worker's executor settings (the image
 * sets EXECUTOR=judge0) are not the gateway's. The gateway adds its HTTP settings. Every problem is
 * reported at once.
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import {
  CONNECTION_PARAMETERS,
  ConnectionSettings,
  envReader,
  parseConnectionSettings,
  resolveSsmParameters,
  SsmBackedSetting,
  ConfigError,
} from '../../core/src/config';
import { AuthConfig, parseAuthConfig } from './auth/config';
import { DEFAULT_MAX_SOURCE_BYTES } from './validation';
import { parseWebhookConfig, WebhookConfig } from './webhooks/config';
import { presenceSettingsFromEnv } from './workerPresence';
import { RunSettings, runSettingsFromEnv } from './runs/service';

export interface GatewayConfig {
  environment: string;
  region: string;
  port: number;
  host: string;
  mq: ConnectionSettings['mq'];
  db: ConnectionSettings['db'];
  s3: ConnectionSettings['s3'];
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
    /** Generations per client address (REVIEW_ADDRESS_RATE_LIMIT_BURST / _PER_HOUR). */
    addressRateLimit: { capacity: number; refillPerSecond: number };
    /** Model calls per UTC day for everyone, across instances (REVIEW_DAILY_BUDGET). */
    dailyModelCalls: number;
  };
  /** Who is calling: see auth/config.ts for the AUTH_* variables. */
  auth: AuthConfig;
  /** Signed result callbacks: see webhooks/config.ts for the WEBHOOK_* variables. */
  webhooks: WebhookConfig;
  /** Runs with custom input: budgets and queue lifetime (RUN_*, web/src/runs/service.ts). */
  runs: RunSettings;
}

type Env = Record<string, string | undefined>;

/**
 * What the gateway reads from SSM: broker, database and, in AWS, the review key (/<env>/review/api-key),
 * the HMAC token secret (AUTH_HMAC_SECRET_PARAM) and the webhook signing secret (WEBHOOK_SECRET_PARAM).
 */
export const GATEWAY_PARAMETERS: SsmBackedSetting[] = [
  ...CONNECTION_PARAMETERS,
  ['REVIEW_API_KEY', 'REVIEW_API_KEY_PARAM'],
  ['AUTH_HMAC_SECRET', 'AUTH_HMAC_SECRET_PARAM'],
  ['WEBHOOK_SECRET', 'WEBHOOK_SECRET_PARAM'],
];

/** Resolves SSM parameter names (WithDecryption), then parses. */
export async function gatewayConfigFromEnv(env: Env = process.env, ssm?: SSMClient): Promise<GatewayConfig> {
  let resolved: Env;
  try {
    resolved = await resolveSsmParameters(env, ssm, GATEWAY_PARAMETERS);
  } catch (error) {
    if (error instanceof ConfigError) throw gatewayError(error.problems);
    throw error;
  }
  return parseGatewayConfig(resolved);
}

export function parseGatewayConfig(env: Env): GatewayConfig {
  const problems: string[] = [];
  const shared = parseConnectionSettings(env, problems);
  const read = envReader(env, problems);
  const int = read.integer;
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
  const reviewAddressBurst = int('REVIEW_ADDRESS_RATE_LIMIT_BURST', 5, 1, 10_000);
  const reviewsPerAddressHour = int('REVIEW_ADDRESS_RATE_LIMIT_PER_HOUR', 30, 1, 1_000_000);
  const reviewDailyBudget = int('REVIEW_DAILY_BUDGET', 1000, 0, 10_000_000);
  const auth = parseAuthConfig(env, problems);
  const webhooks = parseWebhookConfig(env, problems, read);
  const reviewBaseUrl = env.REVIEW_BASE_URL || undefined;
  if (reviewBaseUrl && !/^https?:\/\/[^\s]+$/.test(reviewBaseUrl))
    problems.push(`REVIEW_BASE_URL must be an http(s) URL such as https://api.openai.com/v1 (got "${reviewBaseUrl}")`);
  const runs = runSettingsFromEnv(env, problems);
  if (problems.length) throw gatewayError(problems);

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
      addressRateLimit: { capacity: reviewAddressBurst, refillPerSecond: reviewsPerAddressHour / 3600 },
      dailyModelCalls: reviewDailyBudget,
    },
    auth,
    webhooks,
    runs,
  };
}

function gatewayError(problems: string[]): Error {
  return new Error(`Invalid gateway configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}
