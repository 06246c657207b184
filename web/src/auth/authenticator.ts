/**
 * Bearer-token verification with jose (no hand-written crypto): the signature against the JWKS
 * (oidc) or the shared secret (hmac), an explicit algorithm allow-list (so `alg: none` and
 * HS/RS confusion are refused before any key is used), issuer, audience, expiry, and a `sub`.
 * The caller's identity is the token's `sub`; roles come from the configured claim.
 */
import { createRemoteJWKSet, errors, JWTPayload, jwtVerify, JWTVerifyGetKey, JWTVerifyOptions, SignJWT } from 'jose';
import { USER_ID_PATTERN } from '../validation';
import type { AuthConfig } from './config';

export interface Principal {
  /** The token's `sub`: the only source of a user id. */
  userId: string;
  roles: string[];
  /** Sees every submission and may queue priority. */
  staff: boolean;
  /** May queue on grading-priority. */
  mayPrioritize: boolean;
}

/** Why a token was refused: `status` 401 (the client should log in again) or 503 (keys unreachable). */
export class AuthError extends Error {
  constructor(
    readonly status: 401 | 503,
    readonly code: 'missing_token' | 'invalid_token' | 'token_expired' | 'auth_unavailable',
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

export interface Authenticator {
  readonly mode: AuthConfig['mode'];
  /** Verifies `token` (undefined: none was sent) and returns who is calling. */
  authenticate(token: string | undefined, devUser?: string): Promise<Principal>;
}

type KeySource = Uint8Array | JWTVerifyGetKey;

export function createAuthenticator(config: AuthConfig): Authenticator {
  if (config.mode === 'none') return new DevHeaderAuthenticator(config);
  const key: KeySource =
    config.mode === 'oidc'
      ? createRemoteJWKSet(new URL(config.jwksUrl!), { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 600_000 })
      : new TextEncoder().encode(config.hmacSecret!);
  return new JwtAuthenticator(config, key);
}

class JwtAuthenticator implements Authenticator {
  constructor(
    private readonly config: AuthConfig,
    private readonly key: KeySource,
  ) {}

  get mode() {
    return this.config.mode;
  }

  async authenticate(token: string | undefined): Promise<Principal> {
    if (!token) throw new AuthError(401, 'missing_token', 'this API needs a bearer token: send Authorization: Bearer <token>');
    let payload: JWTPayload;
    try {
      const options: JWTVerifyOptions = {
        issuer: this.config.issuer,
        audience: this.config.audience,
        algorithms: this.config.algorithms,
        clockTolerance: this.config.clockToleranceSeconds,
        requiredClaims: ['sub', 'exp'],
      };
      ({ payload } =
        this.key instanceof Uint8Array ? await jwtVerify(token, this.key, options) : await jwtVerify(token, this.key, options));
    } catch (error) {
      throw describeFailure(error);
    }
    return principalFrom(payload, this.config);
  }
}

/** AUTH_MODE=none: whoever the X-Dev-User header names (default `local-dev`), roles from X-Dev-Roles. */
class DevHeaderAuthenticator implements Authenticator {
  readonly mode = 'none' as const;
  constructor(private readonly config: AuthConfig) {}

  async authenticate(_token: string | undefined, devUser?: string): Promise<Principal> {
    const [user, roles] = (devUser ?? '').split(';');
    return principalFrom(
      { sub: user?.trim() || 'local-dev', [this.config.rolesClaim]: (roles ?? '').split(',').filter(Boolean) },
      this.config,
    );
  }
}

export function principalFrom(payload: JWTPayload, config: Pick<AuthConfig, 'rolesClaim' | 'staffRoles' | 'priorityRoles'>): Principal {
  const sub = payload.sub;
  if (typeof sub !== 'string' || !USER_ID_PATTERN.test(sub)) {
    throw new AuthError(401, 'invalid_token', 'the token\'s "sub" must be 1-128 printable characters without spaces');
  }
  const roles = rolesFrom(claimAt(payload, config.rolesClaim));
  const staff = roles.some((r) => config.staffRoles.includes(r));
  return { userId: sub, roles, staff, mayPrioritize: staff || roles.some((r) => config.priorityRoles.includes(r)) };
}

/** A claim by name, or by dotted path into nested objects (Keycloak's realm_access.roles). */
function claimAt(payload: JWTPayload, name: string): unknown {
  if (name in payload) return payload[name];
  return name
    .split('.')
    .reduce<unknown>((value, part) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined), payload);
}

/** Roles as an array of strings, or a space/comma separated string (OAuth `scope` style). */
function rolesFrom(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  if (typeof value === 'string') return value.split(/[\s,]+/).filter(Boolean);
  return [];
}

function describeFailure(error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  if (error instanceof errors.JWTExpired) return new AuthError(401, 'token_expired', 'the token has expired: log in again');
  if (error instanceof errors.JWTClaimValidationFailed)
    return new AuthError(401, 'invalid_token', `the token was refused: ${error.message}`);
  if (error instanceof errors.JOSEAlgNotAllowed)
    return new AuthError(401, 'invalid_token', 'the token was refused: its signing algorithm is not accepted');
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return new AuthError(401, 'invalid_token', 'the token was refused: the signature does not verify');
  if (error instanceof errors.JWKSNoMatchingKey)
    return new AuthError(401, 'invalid_token', 'the token was refused: no key of the identity provider matches it');
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || isKeyFetchFailure(error)) {
    return new AuthError(503, 'auth_unavailable', "the identity provider's keys could not be read; try again shortly");
  }
  if (error instanceof errors.JOSEError) return new AuthError(401, 'invalid_token', `the token was refused: ${error.code}`);
  return new AuthError(401, 'invalid_token', 'the token was refused: it is not a well-formed JWT');
}

/** The JWKS request failed: a socket error (ECONNREFUSED...) or a non-200 answer from the key set URL. */
function isKeyFetchFailure(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  if (!(error instanceof errors.JOSEError) && typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true;
  return error instanceof errors.JOSEError && /JSON Web Key Set HTTP response/.test(error.message);
}

/**
 * An HS256 token as a site's back end would mint it (docs/web-integration.md); the gateway uses it
 * only for AUTH_DEV_LOGIN on the local stack, and the tests use it to exercise the real path.
 */
export async function mintHs256Token(
  secret: string,
  claims: { sub: string; issuer: string; audience: string; roles?: string[]; rolesClaim?: string; ttlSeconds?: number },
): Promise<string> {
  return new SignJWT({ [claims.rolesClaim ?? 'roles']: claims.roles ?? [] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuer(claims.issuer)
    .setAudience(claims.audience)
    .setIssuedAt()
    .setExpirationTime(`${claims.ttlSeconds ?? 3600}s`)
    .sign(new TextEncoder().encode(secret));
}
