/**
 * The gateway's ports: the domain interfaces the HTTP layer (server.ts) is built on and the adapters
 * implement (client.ts: submissions, problems.ts: the catalog, extensions/: further routes). Types
 * only, so any module can depend on them without pulling in the HTTP server.
 */
import type { SubmissionSignals } from '../../core/src/similarity/signals';
import type { GatewayEvent } from './eventCursor';
import type { GradingResult } from './progressItems';
import type { StoredReview } from './review/store';
import type { SubmissionInput } from './validation';

export interface PendingSubmission {
  requestId: string;
  status: 'pending';
  userId: string;
  problemId: string;
  language: string;
  submittedAt: string;
}

/** What GET /api/submissions/:id answers: pending, or the result document itself. */
export type SubmissionView = PendingSubmission | GradingResult;

/** The submission side of the gateway (GradingClient implements it). */
export interface SubmissionService {
  submit(input: SubmissionInput & { requestId: string }): Promise<{ requestId: string; status: 'submitted' }>;
  lookup(requestId: string): Promise<SubmissionView | undefined>;
  events(requestId: string, opts: { lastEventId?: string; signal?: AbortSignal }): AsyncIterable<GatewayEvent>;
}

export interface ProblemSummary {
  id: string;
  title: string;
}

export interface ProblemDetails extends ProblemSummary {
  description: string;
  timeLimit: number;
  memoryLimit: number;
  testCaseCount: number;
}

export interface ProblemSource {
  list(): Promise<ProblemSummary[]>;
  get(problemId: string): Promise<ProblemDetails | undefined>;
  exists(problemId: string): Promise<boolean>;
}

export interface HealthReport {
  ok: boolean;
  /** e.g. {broker: "connected", database: "ok"}. */
  checks: Record<string, string>;
}

/** POST /api/dev/login on the local stack: a token for whoever asks (AUTH_DEV_LOGIN, never in production). */
export type DevLogin = (userId: string, roles: string[]) => Promise<{ token: string; expiresIn: number }>;

/**
 * Code review on request (review/service.ts implements it). Refusals are ReviewErrors (review/errors.ts)
 * naming a reason; the HTTP layer alone turns a reason into a status.
 */
export interface CodeReviews {
  /** False when no reviewer is configured: the page hides "Review my code". */
  readonly enabled: boolean;
  get(requestId: string): Promise<StoredReview>;
  request(
    requestId: string,
    userId: string,
    opts?: { regenerate?: boolean; clientAddress?: string },
  ): Promise<{ review: StoredReview; created: boolean }>;
}

/** Stores the optional paste signals of a submission (core/src/similarity/store.ts implements it). */
export interface SignalRecorder {
  save(s: { requestId: string; userId: string; problemId: string; signals: SubmissionSignals; sourceChars: number }): Promise<void>;
}

/**
 * Extension routes (web/src/extensions/) mounted beside the built-in ones: each takes the already
 * authenticated principal (from the gateway's authentication, never from the body) and a way to read
 * the JSON body, and answers a status and a JSON body, or `undefined` when the path is not its own.
 */
export interface RoutePrincipal {
  userId: string;
  /** Staff may read paste signals and similarity. */
  staff: boolean;
}

export interface RouteRequest {
  method: string;
  pathname: string;
  query: URLSearchParams;
  /** The authenticated caller; undefined when the request carries no valid credentials. */
  principal?: RoutePrincipal;
  readBody(limitBytes: number): Promise<unknown>;
  /** The client's address as the gateway sees it (X-Forwarded-For behind a trusted proxy), for per-address budgets. */
  clientAddress?: string;
}

export interface RouteResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ApiRoutes {
  handle(request: RouteRequest): Promise<RouteResponse | undefined>;
}
