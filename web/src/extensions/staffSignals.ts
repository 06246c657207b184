/**
 * Staff-only views of how code arrived and what it resembles:
 *   GET /api/staff/submissions/:id/signals   paste signals (raw and summarised) and the closest earlier
 *                                            accepted submissions of other users, with fragments
 *   GET /api/staff/problems/:id/clusters     groups of similar accepted submissions (?threshold=0..1)
 * These inform staff; nothing here reads or writes a verdict.
 */
import { HttpError } from '../http';
import { clusters, DEFAULT_THRESHOLD, topMatches } from '../../../core/src/similarity/compare';
import { summarizeSignals } from '../../../core/src/similarity/signals';
import type { MysqlSimilarityStore } from '../../../core/src/similarity/store';
import { PROBLEM_ID_PATTERN, REQUEST_ID_PATTERN } from '../validation';
import { requireUser } from './githubLink';
import type { ApiRoutes, RouteRequest, RouteResponse } from '../ports';

export type SimilarityReader = Pick<MysqlSimilarityStore, 'getFingerprints' | 'listForProblem' | 'getSignals'>;

export class StaffSignalRoutes implements ApiRoutes {
  constructor(private readonly deps: { store: SimilarityReader; threshold?: number; maxCompared?: number }) {}

  async handle(request: RouteRequest): Promise<RouteResponse | undefined> {
    const submission = /^\/api\/staff\/submissions\/([^/]+)\/signals$/.exec(request.pathname);
    const problem = /^\/api\/staff\/problems\/([^/]+)\/clusters$/.exec(request.pathname);
    if (!submission && !problem) return undefined;
    if (request.method !== 'GET') throw new HttpError(405, 'method_not_allowed', 'use GET', undefined, { allow: 'GET' });
    if (!requireUser(request.principal).staff)
      throw new HttpError(403, 'forbidden', 'only staff may read submission signals and similarity');
    if (submission) return { status: 200, body: await this.signals(decodeURIComponent(submission[1])) };
    return { status: 200, body: await this.clusters(decodeURIComponent(problem![1]), request.query.get('threshold')) };
  }

  private async signals(requestId: string): Promise<Record<string, unknown>> {
    if (!REQUEST_ID_PATTERN.test(requestId))
      throw new HttpError(400, 'invalid_request_id', `"${requestId.slice(0, 80)}" is not a request id (req_...)`);
    const [stored, subject] = await Promise.all([this.deps.store.getSignals(requestId), this.deps.store.getFingerprints(requestId)]);
    if (!stored && !subject)
      throw new HttpError(
        404,
        'not_found',
        `no signals or fingerprints for ${requestId} (fingerprints exist for accepted submissions only)`,
      );
    const candidates = subject ? await this.deps.store.listForProblem(subject.problemId, this.deps.maxCompared ?? 500) : [];
    return {
      requestId,
      signals: stored ? { ...stored.signals, summary: summarizeSignals(stored.signals, stored.sourceChars) } : null,
      fingerprinted: !!subject,
      threshold: this.threshold(),
      similarity: 'jaccard of winnowing fingerprint sets',
      matches: subject ? topMatches(subject, candidates, { limit: 5 }) : [],
    };
  }

  private async clusters(problemId: string, rawThreshold: string | null): Promise<Record<string, unknown>> {
    if (!PROBLEM_ID_PATTERN.test(problemId))
      throw new HttpError(400, 'invalid_problem_id', `"${problemId.slice(0, 80)}" is not a problem id`);
    const threshold = rawThreshold === null ? this.threshold() : Number(rawThreshold);
    if (!(threshold > 0 && threshold <= 1))
      throw new HttpError(400, 'invalid_threshold', `threshold must be a number in (0, 1] (got "${String(rawThreshold).slice(0, 20)}")`);
    const submissions = await this.deps.store.listForProblem(problemId, this.deps.maxCompared ?? 500);
    return { problemId, threshold, compared: submissions.length, clusters: clusters(submissions, threshold) };
  }

  private threshold(): number {
    return this.deps.threshold ?? DEFAULT_THRESHOLD;
  }
}
