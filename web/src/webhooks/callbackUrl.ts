/**
 * Whether a callback URL may be registered (POST /api/submissions `callbackUrl`, WEBHOOK_URL).
 * Checked without DNS: the scheme, length, credentials, port and literal addresses. The resolved
 * addresses are checked again at every delivery (addressGuard.ts), since DNS answers change.
 */
import { isForbiddenAddress } from './addressGuard';

export const MAX_CALLBACK_URL_LENGTH = 2048;

/** Problems with `value` as a callback URL, each a phrase that follows the field name; empty when fine. */
export function checkCallbackUrl(value: unknown, policy: { allowPrivate: boolean }): string[] {
  if (typeof value !== 'string') return ['must be a string'];
  if (value.length > MAX_CALLBACK_URL_LENGTH) return [`must be at most ${MAX_CALLBACK_URL_LENGTH} characters (got ${value.length})`];
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return ['must be an absolute URL such as https://example.com/grading-hook'];
  }
  const problems: string[] = [];
  const schemes = policy.allowPrivate ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(url.protocol))
    problems.push(`must use ${policy.allowPrivate ? 'https or http' : 'https'} (got ${url.protocol.replace(':', '')})`);
  // Credentials in the URL would be stored in the database and sent on every retry: use the signature instead.
  if (url.username || url.password) problems.push('must not contain a user name or password');
  if (url.hash) problems.push('must not contain a #fragment');
  if (!policy.allowPrivate) {
    // The gateway's security group lets HTTPS out on 443 only.
    if (url.port && url.port !== '443') problems.push(`must use port 443 (got ${url.port})`);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const literal = /^[\d.]+$/.test(host) || host.includes(':');
    if ((literal && isForbiddenAddress(host)) || host === 'localhost' || host.endsWith('.localhost')) {
      problems.push(`must not name a private, loopback or link-local host (got ${url.hostname})`);
    }
  }
  return problems;
}

/** The optional `callbackUrl` of a POST /api/submissions body, taken apart from the submission's own fields. */
export function splitCallbackUrl(body: unknown): { rest: unknown; callbackUrl?: unknown } {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !('callbackUrl' in body)) return { rest: body };
  const { callbackUrl, ...rest } = body as Record<string, unknown>;
  return { rest, callbackUrl };
}

/** Field errors for a submission's callbackUrl; `policy` absent means the gateway has no webhooks. */
export function callbackUrlErrors(
  policy: { checkCallbackUrl(value: unknown): string[] } | undefined,
  value: unknown,
): Array<{ field: string; message: string }> {
  const messages = policy ? policy.checkCallbackUrl(value) : ['is not accepted: webhooks are not enabled on this gateway'];
  return messages.map((message) => ({ field: 'callbackUrl', message }));
}
