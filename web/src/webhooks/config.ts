/**
 * WEBHOOK_* settings. A site may name one URL for all its results (WEBHOOK_URL) and/or let each
 * submission carry its own `callbackUrl`; either way deliveries are signed with the site's secret
 * (WEBHOOK_SECRET locally, WEBHOOK_SECRET_PARAM naming an SSM SecureString in AWS: GATEWAY_PARAMETERS
 * resolves it before parsing). Without a secret webhooks are off and a `callbackUrl` is refused.
 *
 * Private, loopback and link-local targets and plain http are allowed only on a local stack
 * (ENVIRONMENT=local, the default of the connection settings, and never with NODE_ENV=production).
 */
import { isProduction } from '../auth/config';
import { checkCallbackUrl } from './callbackUrl';

type Env = Record<string, string | undefined>;

export interface WebhookConfig {
  /** Per site: every result of a submission made through this gateway without its own callbackUrl. */
  siteUrl?: string;
  /** The signing secret (never logged); undefined: webhooks are off. */
  secret?: string;
  /** Local stack only: http, private and loopback targets. */
  allowPrivate: boolean;
  /**
   * WEBHOOK_ALLOWED_HOSTS: the hosts a submission's callbackUrl may name (`hooks.example.com`, or
   * `.example.com` for any host under it); unset: any public host. Any caller may submit, so a site
   * whose users call the gateway directly should list its own hosts.
   */
  allowedHosts?: string[];
  /** PEM bundle trusted for receivers' certificates instead of Node's public CAs (WEBHOOK_TLS_CA). */
  ca?: string;
  maxAttempts: number;
  baseDelayMs: number;
  timeoutMs: number;
  /** How often each instance looks for results no instance delivered (WEBHOOK_SWEEP_MS). */
  sweepIntervalMs: number;
}

/** Smallest secret accepted: an HMAC key shorter than this is guessable offline from one signed delivery. */
export const MIN_SECRET_LENGTH = 32;

export interface WebhookEnvReaders {
  integer(name: string, fallback: number, min: number, max: number): number;
  caBundle(name: string): string | undefined;
}

/** Parses WEBHOOK_*; pushes every problem onto `problems` (the gateway reports them with its own). */
export function parseWebhookConfig(env: Env, problems: string[], read: WebhookEnvReaders): WebhookConfig {
  const allowPrivate = (env.ENVIRONMENT ?? 'local') === 'local' && !isProduction(env);
  const secret = env.WEBHOOK_SECRET || undefined;
  const config: WebhookConfig = {
    siteUrl: env.WEBHOOK_URL || undefined,
    secret,
    allowPrivate,
    allowedHosts: parseAllowedHosts(env.WEBHOOK_ALLOWED_HOSTS, problems),
    ca: read.caBundle('WEBHOOK_TLS_CA'),
    maxAttempts: read.integer('WEBHOOK_MAX_ATTEMPTS', 6, 1, 20),
    baseDelayMs: read.integer('WEBHOOK_RETRY_BASE_MS', 2000, 1, 3_600_000),
    timeoutMs: read.integer('WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
    sweepIntervalMs: read.integer('WEBHOOK_SWEEP_MS', 60_000, 1000, 3_600_000),
  };
  if (secret !== undefined && secret.length < MIN_SECRET_LENGTH) {
    problems.push(`WEBHOOK_SECRET must be at least ${MIN_SECRET_LENGTH} characters (got ${secret.length})`);
  }
  if (config.siteUrl) {
    for (const message of checkCallbackUrl(config.siteUrl, { allowPrivate })) problems.push(`WEBHOOK_URL ${message}`);
    if (!secret) problems.push('WEBHOOK_URL needs WEBHOOK_SECRET or WEBHOOK_SECRET_PARAM (the key deliveries are signed with)');
  }
  return config;
}

const HOST_PATTERN = /^\.?(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

function parseAllowedHosts(raw: string | undefined, problems: string[]): string[] | undefined {
  if (!raw?.trim()) return undefined;
  const hosts = raw
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  const bad = hosts.filter((h) => !HOST_PATTERN.test(h));
  if (bad.length) problems.push(`WEBHOOK_ALLOWED_HOSTS: ${bad.join(', ')} not a host name (hooks.example.com) or suffix (.example.com)`);
  return hosts;
}

/** Whether `host` is one of `allowed` (exact, or under a `.suffix` entry). */
export function hostAllowed(host: string, allowed: string[]): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return allowed.some((a) => (a.startsWith('.') ? h.endsWith(a) : h === a));
}
