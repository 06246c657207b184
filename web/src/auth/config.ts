/**
 * How the gateway learns who is calling (AUTH_* env vars, all problems reported at once):
 *
 *   AUTH_MODE=oidc   JWTs from an identity provider (Cognito, Auth0, Keycloak...): AUTH_JWKS_URL,
 *                    AUTH_ISSUER, AUTH_AUDIENCE, AUTH_ALGORITHMS (allow-list, default RS256).
 *   AUTH_MODE=hmac   HS256 JWTs that the site's own back end mints for its logged-in users:
 *                    AUTH_HMAC_SECRET (or AUTH_HMAC_SECRET_PARAM, an SSM SecureString), AUTH_ISSUER, AUTH_AUDIENCE.
 *   AUTH_MODE=none   local development only: the caller names itself in an X-Dev-User header.
 *                    Refused when NODE_ENV or ENVIRONMENT says production.
 *
 * Roles come from the claim AUTH_ROLES_CLAIM (default `roles`; a dotted path such as
 * `realm_access.roles` reaches into objects). AUTH_STAFF_ROLES see every submission and may queue
 * priority; AUTH_PRIORITY_ROLES may queue priority only. AUTH_DEV_LOGIN=true (hmac mode, never in
 * production) adds POST /api/dev/login, which mints tokens for the local page and tests.
 */

export type AuthMode = 'oidc' | 'hmac' | 'none';

export interface AuthConfig {
  mode: AuthMode;
  issuer?: string;
  audience?: string;
  jwksUrl?: string;
  /** JWS algorithms accepted; anything else (including `none`) is refused before any key is used. */
  algorithms: string[];
  hmacSecret?: string;
  rolesClaim: string;
  staffRoles: string[];
  priorityRoles: string[];
  clockToleranceSeconds: number;
  /** POST /api/dev/login: tokens for anyone who asks. Local stack only. */
  devLogin: boolean;
  /** Lifetime of dev-login tokens, seconds. */
  devTokenTtlSeconds: number;
}

type Env = Record<string, string | undefined>;

/** Asymmetric algorithms an identity provider signs with; HS* is never accepted from a JWKS. */
const OIDC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
export const MIN_HMAC_SECRET_BYTES = 32;

/** True when the process runs a production environment: NODE_ENV=production or ENVIRONMENT production/prod. */
export function isProduction(env: Env): boolean {
  const name = (env.ENVIRONMENT ?? env.ENVIRONMENT_NAME ?? '').trim().toLowerCase();
  return (env.NODE_ENV ?? '').trim().toLowerCase() === 'production' || name === 'production' || name === 'prod';
}

/** Parses AUTH_*; pushes every problem onto `problems` (the caller reports them with its own). */
export function parseAuthConfig(env: Env, problems: string[]): AuthConfig {
  const list = (name: string, fallback: string[]) => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    return raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  };
  const mode = (env.AUTH_MODE ?? '').trim().toLowerCase();
  const production = isProduction(env);
  const config: AuthConfig = {
    mode: 'none',
    issuer: env.AUTH_ISSUER || undefined,
    audience: env.AUTH_AUDIENCE || undefined,
    jwksUrl: env.AUTH_JWKS_URL || undefined,
    algorithms: list('AUTH_ALGORITHMS', mode === 'hmac' ? ['HS256'] : ['RS256']),
    hmacSecret: env.AUTH_HMAC_SECRET || undefined,
    rolesClaim: env.AUTH_ROLES_CLAIM?.trim() || 'roles',
    staffRoles: list('AUTH_STAFF_ROLES', ['staff']),
    priorityRoles: list('AUTH_PRIORITY_ROLES', ['priority']),
    clockToleranceSeconds: 5,
    devLogin: ['true', '1', 'yes'].includes((env.AUTH_DEV_LOGIN ?? '').toLowerCase()),
    devTokenTtlSeconds: 3600,
  };
  if (mode === 'oidc' || mode === 'hmac' || mode === 'none') config.mode = mode;
  else problems.push(`AUTH_MODE must be oidc, hmac or none (got ${mode ? `"${mode}"` : 'nothing'}); none is for local development only`);

  const tolerance = env.AUTH_CLOCK_TOLERANCE_SECONDS;
  if (tolerance !== undefined && tolerance !== '') {
    const n = Number(tolerance);
    if (!Number.isInteger(n) || n < 0 || n > 300)
      problems.push(`AUTH_CLOCK_TOLERANCE_SECONDS must be an integer 0..300 (got "${tolerance}")`);
    else config.clockToleranceSeconds = n;
  }

  if (config.mode === 'oidc' || config.mode === 'hmac') {
    if (!config.issuer)
      problems.push(`AUTH_ISSUER is required with AUTH_MODE=${config.mode} (the token's iss, e.g. https://login.example.com/)`);
    if (!config.audience) problems.push(`AUTH_AUDIENCE is required with AUTH_MODE=${config.mode} (the token's aud naming this gateway)`);
  }
  if (config.mode === 'oidc') {
    if (!config.jwksUrl)
      problems.push('AUTH_JWKS_URL is required with AUTH_MODE=oidc (e.g. https://login.example.com/.well-known/jwks.json)');
    else if (!/^https:\/\//.test(config.jwksUrl) && !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(config.jwksUrl)) {
      problems.push(`AUTH_JWKS_URL must be https (plain http only on loopback) (got "${config.jwksUrl}")`);
    }
    const bad = config.algorithms.filter((a) => !OIDC_ALGORITHMS.includes(a));
    if (bad.length)
      problems.push(`AUTH_ALGORITHMS may only list ${OIDC_ALGORITHMS.join(', ')} with AUTH_MODE=oidc (got ${bad.join(', ')})`);
  }
  if (config.mode === 'hmac') {
    if (!config.hmacSecret)
      problems.push('AUTH_HMAC_SECRET is required with AUTH_MODE=hmac (or AUTH_HMAC_SECRET_PARAM naming an SSM SecureString)');
    else if (Buffer.byteLength(config.hmacSecret) < MIN_HMAC_SECRET_BYTES)
      problems.push(`AUTH_HMAC_SECRET must be at least ${MIN_HMAC_SECRET_BYTES} bytes (got ${Buffer.byteLength(config.hmacSecret)})`);
    if (config.algorithms.join(',') !== 'HS256')
      problems.push(`AUTH_ALGORITHMS must be HS256 with AUTH_MODE=hmac (got ${config.algorithms.join(', ')})`);
  }
  if (config.mode === 'none' && mode === 'none' && production) {
    problems.push('AUTH_MODE=none is refused in production (NODE_ENV=production or ENVIRONMENT=production): use oidc or hmac');
  }
  if (config.devLogin) {
    if (production) problems.push('AUTH_DEV_LOGIN is refused in production: it hands out tokens to anyone');
    if (config.mode !== 'hmac') problems.push('AUTH_DEV_LOGIN needs AUTH_MODE=hmac (it mints tokens with the shared secret)');
  }
  if (!/^[A-Za-z0-9_:/.-]+$/.test(config.rolesClaim))
    problems.push(`AUTH_ROLES_CLAIM must be a claim name or dotted path (got "${config.rolesClaim}")`);
  return config;
}
