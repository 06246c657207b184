/**
 * Settings of the accepted-solutions process (env vars; secrets may come from SSM by *_PARAM):
 * the shared connection settings (broker, database, bucket), plus
 *   SOLUTIONS_TOKEN_KEY (or SOLUTIONS_TOKEN_KEY_PARAM)  32 random bytes, base64: seals linked tokens
 *   SOLUTIONS_TOKEN_KEY_ID   names that key in stored values (default "v1"; change it when rotating)
 *   GITHUB_API_URL           default https://api.github.com (the tests' local server locally)
 *   SOLUTIONS_RESULTS_QUEUE  the queue of final results to follow (default grading-results-solutions, the
 *                           broker's copy of grading-results: components/brokerXml.ts)
 */
import {
  CONNECTION_PARAMETERS,
  ConnectionSettings,
  envReader,
  parseConnectionSettings,
  SsmBackedSetting,
  ConfigError,
} from '../../../core/src/config';

type Env = Record<string, string | undefined>;

/** QUEUES.solutionsResults of components/brokerXml.ts (the worker image does not ship components/). */
export const DEFAULT_RESULTS_QUEUE = 'grading-results-solutions';

export const SOLUTIONS_PARAMETERS: SsmBackedSetting[] = [...CONNECTION_PARAMETERS, ['SOLUTIONS_TOKEN_KEY', 'SOLUTIONS_TOKEN_KEY_PARAM']];

export interface SolutionsConfig extends ConnectionSettings {
  tokenKey: string;
  tokenKeyId: string;
  githubApiUrl: string;
  resultsQueue: string;
  healthPort: number;
}

export function parseSolutionsConfig(env: Env): SolutionsConfig {
  const problems: string[] = [];
  const read = envReader(env, problems);
  const connections = parseConnectionSettings(env, problems);
  const tokenKey = read.required('SOLUTIONS_TOKEN_KEY', 'or SOLUTIONS_TOKEN_KEY_PARAM: 32 random bytes, base64 (openssl rand -base64 32)');
  if (tokenKey && Buffer.from(tokenKey, 'base64').length !== 32) problems.push('SOLUTIONS_TOKEN_KEY must be 32 bytes, base64 encoded');
  const githubApiUrl = env.GITHUB_API_URL ?? 'https://api.github.com';
  if (!/^https?:\/\//.test(githubApiUrl)) problems.push(`GITHUB_API_URL must be an http(s) URL (got "${githubApiUrl}")`);
  const config: SolutionsConfig = {
    ...connections,
    tokenKey,
    tokenKeyId: env.SOLUTIONS_TOKEN_KEY_ID ?? 'v1',
    githubApiUrl,
    resultsQueue: `/queue/${env.SOLUTIONS_RESULTS_QUEUE ?? DEFAULT_RESULTS_QUEUE}`,
    healthPort: read.integer('SOLUTIONS_HEALTH_PORT', 8081, 0, 65535),
  };
  if (problems.length) throw new ConfigError(problems);
  return config;
}
