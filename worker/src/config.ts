/**
 * Worker settings from the environment (see docs/worker.md): the shared connection settings
 * (core/src/config.ts) plus the executor, concurrency and shutdown settings only the worker reads.
 */
import {
  CONNECTION_PARAMETERS,
  ConnectionSettings,
  Env,
  envReader,
  parseConnectionSettings,
  SsmBackedSetting,
  ConfigError,
} from '../../core/src/config';

export interface WorkerConfig extends ConnectionSettings {
  executor: { kind: 'sandbox' | 'judge0'; judge0Endpoint?: string; judge0AuthToken?: string };
  concurrency: number;
  healthPort: number;
  shutdownGraceMs: number;
  maxAttempts: number;
  cacheDir: string;
  /** Budget of the test-case cache in cacheDir, bytes (least recently used files removed first). */
  cacheMaxBytes: number;
}

export const WORKER_PARAMETERS: SsmBackedSetting[] = [
  ...CONNECTION_PARAMETERS,
  ['JUDGE0_ENDPOINT', 'JUDGE0_ENDPOINT_PARAM'],
  ['JUDGE0_AUTH_TOKEN', 'JUDGE0_AUTH_TOKEN_PARAM'],
];

export function parseWorkerConfig(env: Env): WorkerConfig {
  const problems: string[] = [];
  const read = envReader(env, problems);
  const connections = parseConnectionSettings(env, problems);
  const executorKind = env.EXECUTOR ?? 'sandbox';
  if (executorKind !== 'sandbox' && executorKind !== 'judge0') problems.push(`EXECUTOR must be sandbox or judge0 (got "${executorKind}")`);
  const judge0Endpoint = env.JUDGE0_ENDPOINT;
  if (executorKind === 'judge0' && !judge0Endpoint) {
    problems.push('JUDGE0_ENDPOINT is required when EXECUTOR=judge0 (or JUDGE0_ENDPOINT_PARAM)');
  }

  const config: WorkerConfig = {
    ...connections,
    executor: { kind: executorKind as 'sandbox' | 'judge0', judge0Endpoint, judge0AuthToken: env.JUDGE0_AUTH_TOKEN },
    concurrency: read.integer('WORKER_CONCURRENCY', 2, 1, 64),
    healthPort: read.integer('HEALTH_PORT', 8080, 0, 65535),
    shutdownGraceMs: read.integer('SHUTDOWN_GRACE_MS', 100_000, 0, 3_600_000),
    maxAttempts: read.integer('MAX_ATTEMPTS', 3, 1, 100),
    cacheDir: env.TESTCASE_CACHE_DIR ?? '/tmp/grading-testcases',
    cacheMaxBytes: read.integer('TESTCASE_CACHE_MAX_MB', 512, 16, 1_000_000) * 1024 * 1024,
  };
  if (problems.length) throw new ConfigError(problems);
  return config;
}
