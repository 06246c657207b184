/**
 * Token verification as the gateway does it: OIDC against a JWKS served on loopback (keys generated
 * here, as an identity provider's would be), HS256 with a shared secret, and the config rules.
 */
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, KeyLike } from 'jose';
import { AuthError, createAuthenticator, mintHs256Token } from '../../web/src/auth/authenticator';
import { parseAuthConfig } from '../../web/src/auth/config';
import { parseGatewayConfig } from '../../web/src/config';

const ISSUER = 'https://login.example.test/';
const AUDIENCE = 'grading-gateway';

async function rejectsWith(promise: Promise<unknown>, code: string, status = 401): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AuthError, String(error));
    assert.equal(error.code, code, error.message);
    assert.equal(error.status, status);
    return true;
  });
}

describe('gateway token verification', () => {
  describe('oidc (JWKS on loopback)', () => {
    let server: http.Server;
    let jwksUrl: string;
    let key: KeyLike;
    let otherKey: KeyLike;
    let publicPem: string;

    before(async () => {
      const pair = await generateKeyPair('RS256');
      key = pair.privateKey;
      otherKey = (await generateKeyPair('RS256')).privateKey;
      const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
      publicPem = (pair.publicKey as unknown as { export(o: object): string }).export({ type: 'spki', format: 'pem' });
      server = http.createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ keys: [jwk] }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const auth = () =>
      createAuthenticator(
        parseAuthConfig(
          {
            AUTH_MODE: 'oidc',
            AUTH_JWKS_URL: jwksUrl,
            AUTH_ISSUER: ISSUER,
            AUTH_AUDIENCE: AUDIENCE,
            AUTH_ROLES_CLAIM: 'realm_access.roles',
          },
          [],
        ),
      );
    const sign = (
      claims: Record<string, unknown> = {},
      opts: { key?: KeyLike; iss?: string; aud?: string; exp?: string | number; kid?: string } = {},
    ) =>
      new SignJWT({ realm_access: { roles: ['student'] }, ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: opts.kid ?? 'k1' })
        .setSubject('auth0|user-42')
        .setIssuer(opts.iss ?? ISSUER)
        .setAudience(opts.aud ?? AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(opts.exp ?? '5m')
        .sign(opts.key ?? key);

    it('accepts a valid token: the user is sub, roles from the configured claim', async () => {
      assert.deepEqual(await auth().authenticate(await sign()), {
        userId: 'auth0|user-42',
        roles: ['student'],
        staff: false,
        mayPrioritize: false,
      });
      const staff = await auth().authenticate(await sign({ realm_access: { roles: ['staff'] } }));
      assert.equal(staff.staff, true);
      assert.equal(staff.mayPrioritize, true);
    });

    it('refuses an expired token, a wrong issuer or audience, and a foreign signature', async () => {
      const a = auth();
      await rejectsWith(a.authenticate(await sign({}, { exp: Math.floor(Date.now() / 1000) - 60 })), 'token_expired');
      await rejectsWith(a.authenticate(await sign({}, { iss: 'https://evil.example/' })), 'invalid_token');
      await rejectsWith(a.authenticate(await sign({}, { aud: 'another-api' })), 'invalid_token');
      await rejectsWith(a.authenticate(await sign({}, { key: otherKey })), 'invalid_token');
      const [header, payload, signature] = (await sign()).split('.');
      const tampered = Buffer.from(
        JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'someone-else' }),
      ).toString('base64url');
      await rejectsWith(a.authenticate(`${header}.${tampered}.${signature}`), 'invalid_token');
    });

    it('refuses alg none, HS256 signed with the public key (algorithm confusion), a missing token and a missing sub', async () => {
      const a = auth();
      const unsecured = new UnsecuredJWT({ sub: 'admin', realm_access: { roles: ['staff'] } })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime('5m')
        .encode();
      await rejectsWith(a.authenticate(unsecured), 'invalid_token');
      const confused = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
        .setSubject('admin')
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(publicPem));
      await rejectsWith(a.authenticate(confused), 'invalid_token');
      await rejectsWith(a.authenticate(undefined), 'missing_token');
      await rejectsWith(a.authenticate(''), 'missing_token');
      const noSub = await new SignJWT({})
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime('5m')
        .sign(key);
      await rejectsWith(a.authenticate(noSub), 'invalid_token');
      const spacedSub = await new SignJWT({})
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setSubject('has space')
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime('5m')
        .sign(key);
      await rejectsWith(a.authenticate(spacedSub), 'invalid_token');
    });

    it("answers 503 (not 401) when the identity provider's keys cannot be fetched", async () => {
      const dead = createAuthenticator(
        parseAuthConfig(
          { AUTH_MODE: 'oidc', AUTH_JWKS_URL: 'http://127.0.0.1:9/jwks.json', AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE },
          [],
        ),
      );
      await rejectsWith(dead.authenticate(await sign()), 'auth_unavailable', 503);
    });
  });

  describe('hmac (a site back end mints HS256)', () => {
    const SECRET = 'a-shared-secret-of-at-least-32-bytes-long';
    const env = {
      AUTH_MODE: 'hmac',
      AUTH_HMAC_SECRET: SECRET,
      AUTH_ISSUER: 'https://site.example',
      AUTH_AUDIENCE: 'grading',
      AUTH_ROLES_CLAIM: 'grading_roles',
    };
    const auth = createAuthenticator(parseAuthConfig(env, []));
    const mint = (o: { secret?: string; ttlSeconds?: number; roles?: string[]; audience?: string } = {}) =>
      mintHs256Token(o.secret ?? SECRET, {
        sub: 'u1',
        roles: o.roles ?? [],
        rolesClaim: 'grading_roles',
        issuer: 'https://site.example',
        audience: o.audience ?? 'grading',
        ttlSeconds: o.ttlSeconds,
      });

    it("accepts the shared secret's tokens and reads roles from the configured claim", async () => {
      assert.deepEqual(await auth.authenticate(await mint({ roles: ['priority'] })), {
        userId: 'u1',
        roles: ['priority'],
        staff: false,
        mayPrioritize: true,
      });
    });

    it('refuses another secret, an expired token, a wrong audience and alg none', async () => {
      await rejectsWith(auth.authenticate(await mint({ secret: 'x'.repeat(40) })), 'invalid_token');
      await rejectsWith(auth.authenticate(await mint({ ttlSeconds: -60 })), 'token_expired');
      await rejectsWith(auth.authenticate(await mint({ audience: 'other' })), 'invalid_token');
      const unsecured = new UnsecuredJWT({ sub: 'u1' })
        .setIssuer('https://site.example')
        .setAudience('grading')
        .setExpirationTime('5m')
        .encode();
      await rejectsWith(auth.authenticate(unsecured), 'invalid_token');
    });
  });

  describe('config', () => {
    const base = {
      MQ_ENDPOINTS: 'stomp+ssl://127.0.0.1:61614',
      DB_HOST: '127.0.0.1',
      DB_USERNAME: 'g',
      DB_PASSWORD: 'p',
      GRADING_BUCKET: 'b',
    };

    it('requires a mode and reports every missing setting at once', () => {
      assert.throws(() => parseGatewayConfig(base), /AUTH_MODE must be oidc, hmac or none/);
      assert.throws(
        () => parseGatewayConfig({ ...base, AUTH_MODE: 'oidc' }),
        (e: Error) => /AUTH_ISSUER/.test(e.message) && /AUTH_AUDIENCE/.test(e.message) && /AUTH_JWKS_URL/.test(e.message),
      );
      assert.throws(
        () => parseGatewayConfig({ ...base, AUTH_MODE: 'hmac', AUTH_HMAC_SECRET: 'short', AUTH_ISSUER: 'i', AUTH_AUDIENCE: 'a' }),
        /at least 32 bytes/,
      );
      assert.throws(
        () =>
          parseGatewayConfig({
            ...base,
            AUTH_MODE: 'oidc',
            AUTH_JWKS_URL: 'http://idp.example/jwks',
            AUTH_ISSUER: 'i',
            AUTH_AUDIENCE: 'a',
            AUTH_ALGORITHMS: 'HS256,none',
          }),
        (e: Error) => /must be https/.test(e.message) && /HS256, none/.test(e.message),
      );
    });

    it('refuses AUTH_MODE=none and AUTH_DEV_LOGIN in production', () => {
      assert.equal(parseGatewayConfig({ ...base, AUTH_MODE: 'none' }).auth.mode, 'none');
      for (const production of [{ NODE_ENV: 'production' }, { ENVIRONMENT: 'production' }, { ENVIRONMENT: 'Prod' }]) {
        assert.throws(() => parseGatewayConfig({ ...base, ...production, AUTH_MODE: 'none' }), /AUTH_MODE=none is refused in production/);
        assert.throws(
          () =>
            parseGatewayConfig({
              ...base,
              ...production,
              AUTH_MODE: 'hmac',
              AUTH_HMAC_SECRET: 'y'.repeat(32),
              AUTH_ISSUER: 'i',
              AUTH_AUDIENCE: 'a',
              AUTH_DEV_LOGIN: 'true',
            }),
          (e: Error) => /AUTH_DEV_LOGIN is refused in production/.test(e.message),
        );
      }
    });

    it('takes the none-mode caller from X-Dev-User (local development only)', async () => {
      const dev = createAuthenticator(parseAuthConfig({ AUTH_MODE: 'none' }, []));
      assert.deepEqual(await dev.authenticate(undefined, 'alice;staff'), {
        userId: 'alice',
        roles: ['staff'],
        staff: true,
        mayPrioritize: true,
      });
      assert.equal((await dev.authenticate(undefined)).userId, 'local-dev');
    });
  });
});
