/**
 * The local stack's issuer: hmac mode with a secret generated at every start (never stored), the
 * dev login for the page, and tokens for the sample runner. Nothing here is valid in production:
 * the gateway refuses AUTH_DEV_LOGIN there.
 */
import { randomBytes } from 'node:crypto';
import { mintHs256Token } from './authenticator';

export interface LocalIssuer {
  /** Gateway env: AUTH_MODE=hmac with the generated secret, AUTH_DEV_LOGIN. */
  env: Record<string, string>;
  /** A bearer token for `userId`, as the page's login would get. */
  token(userId: string, roles?: string[]): Promise<string>;
}

export function localIssuer(): LocalIssuer {
  const secret = randomBytes(32).toString('base64url');
  const issuer = 'http://127.0.0.1/local-issuer';
  const audience = 'grading-gateway';
  return {
    env: { AUTH_MODE: 'hmac', AUTH_HMAC_SECRET: secret, AUTH_ISSUER: issuer, AUTH_AUDIENCE: audience, AUTH_DEV_LOGIN: 'true' },
    token: (userId, roles = []) => mintHs256Token(secret, { sub: userId, roles, issuer, audience, ttlSeconds: 3600 }),
  };
}
