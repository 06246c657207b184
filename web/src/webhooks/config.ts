/** WEBHOOK_* settings: a per-site target and whether private targets are allowed (local stack only). */
import { isProduction } from '../auth/config';

type Env = Record<string, string | undefined>;

export interface WebhookConfig {
  siteUrl?: string;
  /** The secret itself, or the SSM parameter that holds it (read at start, never logged). */
  secret?: string;
  secretParam?: string;
  allowPrivate: boolean;
}

/** Parses WEBHOOK_*; pushes every problem onto `problems`. */
export function parseWebhookConfig(env: Env, problems: string[]): WebhookConfig {
  const asked = (env.WEBHOOK_ALLOW_PRIVATE ?? '').trim().toLowerCase() === 'true';
  if (asked && isProduction(env)) problems.push('WEBHOOK_ALLOW_PRIVATE=true is refused in production');
  const allowPrivate = asked && !isProduction(env);
  const config: WebhookConfig = {
    siteUrl: env.WEBHOOK_URL || undefined,
    secret: env.WEBHOOK_SECRET || undefined,
    secretParam: env.WEBHOOK_SECRET_PARAM || undefined,
    allowPrivate,
  };
  if (config.secret && config.secretParam) problems.push('set one of WEBHOOK_SECRET and WEBHOOK_SECRET_PARAM, not both');
  if (config.siteUrl) {
    try {
      const u = new URL(config.siteUrl);
      if (u.protocol !== 'https:' && !(allowPrivate && u.protocol === 'http:')) problems.push('WEBHOOK_URL must use https');
    } catch {
      problems.push('WEBHOOK_URL is not a URL');
    }
    if (!config.secret && !config.secretParam) problems.push('WEBHOOK_URL needs WEBHOOK_SECRET or WEBHOOK_SECRET_PARAM');
  }
  return config;
}
