/**
 * Gateway authentication for the end-to-end suites: hmac mode with a secret generated per run,
 * tokens minted as a site's back end would, so every request takes the real verification path.
 */
import { randomBytes } from 'node:crypto';
import { createAuthenticator, mintHs256Token } from '../../web/src/auth/authenticator';
import { parseAuthConfig } from '../../web/src/auth/config';
import type { GatewayDeps } from '../../web/src/server';
import type { SubmissionRecord } from '../../web/src/submissionIndex';

const SECRET = randomBytes(32).toString('base64url');
const ISSUER = 'https://e2e.grading.test';
const AUDIENCE = 'grading-gateway';

/** Env for stack.gateway(): hmac tokens, the dev login for the page, the tables created at start (local only). */
export const E2E_GATEWAY_AUTH_ENV: Record<string, string> = {
  AUTH_MODE: 'hmac',
  AUTH_HMAC_SECRET: SECRET,
  AUTH_ISSUER: ISSUER,
  AUTH_AUDIENCE: AUDIENCE,
  AUTH_DEV_LOGIN: 'true',
};

export function tokenFor(userId: string, roles: string[] = []): Promise<string> {
  return mintHs256Token(SECRET, { sub: userId, roles, issuer: ISSUER, audience: AUDIENCE, ttlSeconds: 600 });
}

export async function bearer(userId: string, roles: string[] = []): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await tokenFor(userId, roles)}` };
}

/**
 * Auth dependencies for gateway tests that are about something else (health, languages, extension routes): the
 * real hmac verification path with this module's secret, in-memory submission index (ownership) and
 * in-memory stream tickets.
 */
export function unitGatewayAuthDeps(): Pick<GatewayDeps, 'auth' | 'index' | 'tickets'> {
  const problems: string[] = [];
  const config = parseAuthConfig({ AUTH_MODE: 'hmac', AUTH_HMAC_SECRET: SECRET, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE }, problems);
  if (problems.length) throw new Error(problems.join('; '));
  const owners = new Map<string, string>();
  const recorded: SubmissionRecord[] = [];
  const tickets = new Map<string, { userId: string; requestId: string }>();
  return {
    auth: createAuthenticator(config),
    index: {
      record: async (s) => {
        owners.set(s.requestId, s.userId);
        recorded.push(s);
      },
      forget: async (requestId) => void owners.delete(requestId),
      owner: async (requestId) => owners.get(requestId),
      // Newest first, no paging: what the page asks for on start (results are the stand-in service's business).
      list: async (userId, page) => ({
        submissions: recorded
          .filter((s) => s.userId === userId && owners.has(s.requestId))
          .reverse()
          .slice(0, page.limit)
          .map(({ requestId, problemId, language, createdAt }) => ({
            requestId,
            problemId,
            language,
            createdAt,
            status: 'pending' as const,
          })),
      }),
    },
    tickets: {
      issue: async (userId, requestId) => {
        const ticket = randomBytes(16).toString('base64url');
        tickets.set(ticket, { userId, requestId });
        return ticket;
      },
      redeem: async (ticket, requestId) => (tickets.get(ticket)?.requestId === requestId ? tickets.get(ticket)?.userId : undefined),
    },
  };
}
