/**
 * Linking a GitHub repository for accepted solutions:
 *   POST   /api/github/link  {repository: "owner/name", token, pathTemplate?}  201 with the link's state
 *   GET    /api/github/link  the link's state and the latest commits (never the token)
 *   DELETE /api/github/link  unlinks and deletes the sealed token; 204
 * The token is sealed with the Encryptor before it is stored and never echoed or logged. Always the
 * caller's own link: the user id comes from the authenticated principal.
 */
import { HttpError } from '../http';
import type { Encryptor } from '../../../core/src/solutions/crypto';
import { checkPathTemplate, DEFAULT_PATH_TEMPLATE } from '../../../core/src/solutions/pathTemplate';
import type { MysqlSolutionStore } from '../../../core/src/solutions/store';
import type { FieldError } from '../validation';
import type { ApiRoutes, RoutePrincipal as Principal, RouteRequest, RouteResponse } from '../ports';

export const REPOSITORY_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;
// GitHub tokens (classic ghp_, fine-grained github_pat_, app ghs_) are ASCII without spaces.
const TOKEN_PATTERN = /^[A-Za-z0-9_]{20,255}$/;
const FIELDS = ['repository', 'token', 'pathTemplate'];

export type LinkStore = Pick<MysqlSolutionStore, 'saveLink' | 'getLink' | 'deleteLink' | 'recentCommits'>;

export function validateLinkRequest(
  body: unknown,
): { ok: true; value: { repository: string; token: string; pathTemplate: string } } | { ok: false; errors: FieldError[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, errors: [{ field: '(body)', message: 'must be a JSON object' }] };
  const input = body as Record<string, unknown>;
  const errors: FieldError[] = [];
  if (typeof input.repository !== 'string' || !REPOSITORY_PATTERN.test(input.repository) || /\/\.\.?$/.test(input.repository)) {
    errors.push({ field: 'repository', message: 'must be "owner/name" of a GitHub repository' });
  }
  // Never quote the token back, not even part of it.
  if (typeof input.token !== 'string' || !TOKEN_PATTERN.test(input.token)) {
    errors.push({
      field: 'token',
      message: 'must be a GitHub token (20-255 letters, digits and _), e.g. a fine-grained token with contents:write on the repository',
    });
  }
  const pathTemplate = input.pathTemplate ?? DEFAULT_PATH_TEMPLATE;
  for (const problem of checkPathTemplate(pathTemplate)) errors.push({ field: 'pathTemplate', message: problem });
  for (const key of Object.keys(input))
    if (!FIELDS.includes(key)) errors.push({ field: key, message: `is not a known field (expected ${FIELDS.join(', ')})` });
  if (errors.length) return { ok: false, errors };
  return {
    ok: true,
    value: { repository: input.repository as string, token: input.token as string, pathTemplate: pathTemplate as string },
  };
}

export class GitHubLinkRoutes implements ApiRoutes {
  /** @param encryptor absent: linking is not configured here (the routes answer 503). */
  constructor(private readonly deps: { store: LinkStore; encryptor?: Encryptor }) {}

  async handle(request: RouteRequest): Promise<RouteResponse | undefined> {
    if (request.pathname !== '/api/github/link') return undefined;
    if (!['GET', 'POST', 'DELETE'].includes(request.method)) {
      throw new HttpError(405, 'method_not_allowed', 'use GET, POST or DELETE', undefined, { allow: 'GET, POST, DELETE' });
    }
    const principal = requireUser(request.principal);
    if (request.method === 'GET') return { status: 200, body: await this.state(principal.userId) };
    if (request.method === 'DELETE') {
      await this.deps.store.deleteLink(principal.userId);
      return { status: 204 };
    }
    if (!this.deps.encryptor)
      throw new HttpError(503, 'github_unavailable', 'linking GitHub repositories is not configured on this gateway');
    const checked = validateLinkRequest(await request.readBody(4096));
    if (!checked.ok) {
      throw new HttpError(
        400,
        'invalid_link',
        'the link is invalid: ' + checked.errors.map((e) => `${e.field} ${e.message}`).join('; '),
        checked.errors,
      );
    }
    const { repository, token, pathTemplate } = checked.value;
    await this.deps.store.saveLink({
      userId: principal.userId,
      repository,
      pathTemplate,
      tokenSealed: await this.deps.encryptor.encrypt(token, principal.userId),
    });
    return { status: 201, body: await this.state(principal.userId) };
  }

  private async state(userId: string): Promise<Record<string, unknown>> {
    const link = await this.deps.store.getLink(userId);
    if (!link) return { linked: false };
    const commits = await this.deps.store.recentCommits(userId, 10);
    return {
      linked: true,
      repository: link.repository,
      pathTemplate: link.pathTemplate,
      status: link.status,
      ...(link.invalidReason ? { invalidReason: link.invalidReason } : {}),
      linkedAt: link.linkedAt,
      commits: commits.map((c) => ({
        requestId: c.requestId,
        status: c.status,
        repository: c.repository,
        ...(c.path ? { path: c.path } : {}),
        ...(c.commitUrl ? { url: c.commitUrl } : {}),
        ...(c.error ? { error: c.error } : {}),
        updatedAt: c.updatedAt,
      })),
    };
  }
}

export function requireUser(principal: Principal | undefined): Principal {
  if (!principal)
    throw new HttpError(401, 'unauthenticated', 'sign in first: this route needs an authenticated user', undefined, {
      'www-authenticate': 'Bearer',
    });
  return principal;
}
