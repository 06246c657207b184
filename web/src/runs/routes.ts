/**
 * The runs API, mounted beside the gateway's own routes (extensions/routes.ts), behind its
 * authentication:
 *
 *   POST /api/runs        {problemId, language, sourceCode, stdin}  → 202 {runId, state: "pending", ...}
 *   GET  /api/runs/:id[?wait=seconds]  the caller's run: pending, finished (with `result`) or expired
 *
 * See docs/web-integration.md (Run with custom input).
 */
import { RUN_LIMITS } from '../../../core/src/contracts/run';
import type { ApiRoutes, RouteRequest, RouteResponse } from '../ports';
import { HttpError } from '../http';
import type { RunService } from './service';

export class RunRoutes implements ApiRoutes {
  constructor(private readonly runs: RunService) {}

  async handle(request: RouteRequest): Promise<RouteResponse | undefined> {
    const { method, pathname } = request;
    if (pathname !== '/api/runs' && !pathname.startsWith('/api/runs/')) return undefined;
    if (!request.principal) throw new HttpError(401, 'missing_token', 'sign in to run code');
    const userId = request.principal.userId;
    if (pathname === '/api/runs') {
      if (method !== 'POST') return methodNotAllowed('POST');
      // JSON escaping can double the source and stdin, plus room for the other fields.
      const body = await request.readBody(2 * (RUN_LIMITS.sourceChars + RUN_LIMITS.stdinChars) + 4096);
      const view = await this.runs.start(userId, body, request.clientAddress ?? 'unknown');
      return { status: 202, body: view, headers: { location: `/api/runs/${view.runId}` } };
    }
    const match = /^\/api\/runs\/([^/]+)$/.exec(pathname);
    if (!match) return undefined;
    if (method !== 'GET') return methodNotAllowed('GET');
    const rawWait = request.query.get('wait');
    const wait = rawWait === null ? 0 : Number(rawWait);
    if (!Number.isFinite(wait) || wait < 0 || wait > this.runs.settings.maxWaitSeconds) {
      throw new HttpError(
        400,
        'invalid_query',
        `wait must be a number of seconds 0..${this.runs.settings.maxWaitSeconds} (got "${rawWait}")`,
      );
    }
    return { status: 200, body: await this.runs.view(match[1], userId, wait) };
  }
}

function methodNotAllowed(allowed: string): RouteResponse {
  return { status: 405, body: { error: 'method_not_allowed', message: `use ${allowed}` }, headers: { allow: allowed } };
}
