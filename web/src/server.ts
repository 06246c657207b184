/**
 * The gateway's HTTP API (node:http, no framework) and the web page.
 *
 *   POST /api/submissions              submit; 202 {requestId, status: "submitted"}
 *   GET  /api/submissions/:id          pending, or the grading result document
 *   GET  /api/submissions/:id/events   Server-Sent Events: `case` per finished test case, then `final`
 *   POST /api/submissions/:id/review   the author asks for a code review of a graded submission
 *   GET  /api/submissions/:id/review   the stored review
 *   GET  /api/problems, /api/problems/:id, /api/languages, and the page itself.
 *   GET  /health/live (200 while serving: load balancer), /health/ready and /health (broker, database).
 *
 * State lives in S3 and the database, live progress comes from the topic every instance
 * subscribes to, so any instance behind the load balancer can answer any request.
 * See docs/web-integration.md for the contract with examples.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { LANGUAGES, LANGUAGE_IDS } from '../../worker/src/languages';
import { newRequestId } from './client';
import { SubmissionDebouncer, submissionKey } from './debounce';
import type { GatewayEvent } from './eventCursor';
import { HttpError, readJsonBody, sendJson } from './http';
import type { GradingResult } from './progressItems';
import { ApiRoutes, dispatchRoutes, Principal } from './extensions/routes';
import { TokenBucketLimiter } from './rateLimit';
import { splitSignals, SubmissionSignals, validateSignals } from '../../worker/src/similarity/signals';
import type { ReviewService } from './review/service';
import { decodeEventId, formatSseComment, formatSseEvent } from './sse';
import { loadStaticAssets, StaticAsset } from './staticAssets';
import { DEFAULT_MAX_SOURCE_BYTES, REQUEST_ID_PATTERN, PROBLEM_ID_PATTERN, SubmissionInput, validateReviewRequest, validateSubmission } from './validation';

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

export interface GatewayDeps {
  submissions: SubmissionService;
  problems: ProblemSource;
  health: () => Promise<HealthReport>;
  /** Code review on request; absent, the review routes answer 503. */
  reviews?: ReviewService;
  log?: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
  /** Further API routes (GitHub link, staff signals: web/src/extensions/), asked after the built-in ones. */
  routes?: ApiRoutes[];
  /** The authenticated caller of a request (the gateway's authentication); absent: routes that need one answer 401. */
  principal?: (req: http.IncomingMessage) => Promise<Principal | undefined>;
  /** Stores the optional paste signals of a submission; a failure is logged and never fails the submission. */
  signals?: { save(s: { requestId: string; userId: string; problemId: string; signals: SubmissionSignals; sourceChars: number }): Promise<void> };
}

export interface GatewayOptions {
  maxSourceBytes?: number;
  /** Per user: burst and refill. Default 5 submissions, then one every 6 s. */
  userRateLimit?: { capacity: number; refillPerSecond: number };
  /** Per client address (guards against rotating user ids). Default 30, then 1 per second. */
  ipRateLimit?: { capacity: number; refillPerSecond: number };
  /** Same user + problem + language + source within this window gets the same request id. Default 5000. */
  debounceWindowMs?: number;
  /** SSE comment interval that keeps proxies (the ALB idles out at 60 s) from closing a quiet stream. Default 15000. */
  heartbeatMs?: number;
  /** Reconnect delay suggested to EventSource, ms. Default 2000. */
  sseRetryMs?: number;
  /** Time allowed to receive a submission's body, ms. Default 30000. */
  bodyTimeoutMs?: number;
  /** Use the address the load balancer appended to X-Forwarded-For for the per-address limit. */
  trustProxy?: boolean;
  /** Origins allowed to call the API from a browser (CORS). Default none: same origin only. */
  corsOrigins?: string[];
  publicDir?: string;
}

export class Gateway {
  readonly server: http.Server;
  private readonly assets: Map<string, StaticAsset>;
  private readonly userLimiter: TokenBucketLimiter;
  private readonly ipLimiter: TokenBucketLimiter;
  private readonly debouncer: SubmissionDebouncer;
  private readonly maxSourceBytes: number;
  private readonly streams = new Set<http.ServerResponse>();
  private readonly log: NonNullable<GatewayDeps['log']>;

  constructor(
    private readonly deps: GatewayDeps,
    private readonly opts: GatewayOptions = {},
  ) {
    this.assets = loadStaticAssets(opts.publicDir);
    this.maxSourceBytes = opts.maxSourceBytes ?? DEFAULT_MAX_SOURCE_BYTES;
    this.userLimiter = new TokenBucketLimiter(opts.userRateLimit ?? { capacity: 5, refillPerSecond: 1 / 6 });
    this.ipLimiter = new TokenBucketLimiter(opts.ipRateLimit ?? { capacity: 30, refillPerSecond: 1 });
    this.debouncer = new SubmissionDebouncer({ windowMs: opts.debounceWindowMs ?? 5000 });
    this.log = deps.log ?? (() => undefined);
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((error) => this.fail(res, error));
    });
    // SSE streams are long-lived: no request timeout; headers must still arrive promptly.
    this.server.requestTimeout = 0;
    this.server.headersTimeout = 20_000;
    this.server.keepAliveTimeout = 65_000; // above the ALB's 60 s idle timeout
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.removeListener('error', reject);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  get url(): string {
    const address = this.server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;
  }

  get openStreams(): number {
    return this.streams.size;
  }

  /** Stops accepting connections and ends open event streams (browsers reconnect elsewhere). */
  async close(): Promise<void> {
    for (const res of this.streams) res.end();
    this.server.closeIdleConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const method = req.method ?? 'GET';
    const pathname = url.pathname;
    if (pathname.startsWith('/api/') && this.cors(req, res, method)) return;

    if (pathname === '/health/live' && method === 'GET') return sendJson(res, 200, { status: 'ok' });
    if ((pathname === '/health' || pathname === '/health/ready') && method === 'GET') return this.health(res);
    if (pathname === '/api/submissions') {
      if (method === 'POST') return this.submit(req, res);
      throw methodNotAllowed('POST');
    }
    const submission = /^\/api\/submissions\/([^/]+)(\/events|\/review)?$/.exec(pathname);
    if (submission) {
      const [, encodedId, part] = submission;
      const allowed = part === '/review' ? ['GET', 'POST'] : ['GET'];
      if (!allowed.includes(method)) throw methodNotAllowed(allowed.join(', '));
      const requestId = decodeURIComponent(encodedId);
      if (!REQUEST_ID_PATTERN.test(requestId)) throw new HttpError(400, 'invalid_request_id', `"${requestId.slice(0, 80)}" is not a request id (req_...)`);
      if (part === '/review') return method === 'POST' ? this.requestReview(req, res, requestId) : this.review(res, requestId);
      if (part === '/events') return this.events(req, res, requestId, url);
      return this.lookup(res, requestId);
    }
    if (pathname === '/api/problems' && method === 'GET') return sendJson(res, 200, { problems: await this.deps.problems.list() });
    const problem = /^\/api\/problems\/([^/]+)$/.exec(pathname);
    if (problem && method === 'GET') return this.problem(res, decodeURIComponent(problem[1]));
    if (pathname === '/api/languages' && method === 'GET') {
      return sendJson(res, 200, { languages: LANGUAGE_IDS.map((id) => ({ id, label: LANGUAGES[id].label, extension: LANGUAGES[id].extension })), maxSourceBytes: this.maxSourceBytes });
    }
    if (pathname.startsWith('/api/') && this.deps.routes?.length) {
      const principal = await this.deps.principal?.(req);
      const readBody = (limit: number) => readJsonBody(req, limit, this.opts.bodyTimeoutMs);
      const answer = await dispatchRoutes(this.deps.routes, { method, pathname, query: url.searchParams, principal, readBody });
      if (answer) return answer.status === 204 ? void res.writeHead(204, answer.headers).end() : sendJson(res, answer.status, answer.body, answer.headers);
    }
    if (pathname.startsWith('/api/')) throw new HttpError(404, 'not_found', `no API route ${method} ${pathname}`);
    if (method === 'GET' || method === 'HEAD') return this.staticFile(req, res, pathname);
    throw methodNotAllowed('GET');
  }

  private async submit(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const address = this.clientAddress(req);
    const byAddress = this.ipLimiter.take(address);
    if (!byAddress.allowed) throw rateLimited(byAddress.retryAfterSeconds, 'this address');

    // JSON escaping can double the source's size, plus room for the other fields.
    const body = await readJsonBody(req, this.maxSourceBytes * 2 + 4096, this.opts.bodyTimeoutMs);
    // Paste signals are optional and validated on their own (worker/src/similarity/signals.ts).
    const { rest, signals } = splitSignals(body);
    const signalCheck = signals === undefined ? undefined : validateSignals(signals);
    const validation = validateSubmission(rest, { maxSourceBytes: this.maxSourceBytes });
    const errors = [...(validation.ok ? [] : validation.errors), ...(signalCheck && !signalCheck.ok ? signalCheck.errors : [])];
    if (!validation.ok || errors.length) throw new HttpError(400, 'invalid_submission', 'the submission is invalid: ' + errors.map((e) => `${e.field} ${e.message}`).join('; '), errors);
    const input = validation.value;

    // Debounce before the rate limit: a double click must not cost two tokens.
    const key = submissionKey(input);
    const candidateId = newRequestId();
    const existing = this.debouncer.claim(key, candidateId);
    if (existing) return sendJson(res, 202, { requestId: existing, status: 'submitted', duplicate: true }, { location: `/api/submissions/${existing}` });

    const byUser = this.userLimiter.take(input.userId);
    if (!byUser.allowed) {
      this.debouncer.release(key, candidateId);
      throw rateLimited(byUser.retryAfterSeconds, `user ${input.userId}`);
    }
    try {
      if (!(await this.deps.problems.exists(input.problemId))) {
        throw new HttpError(400, 'invalid_submission', `the submission is invalid: problemId "${input.problemId}" is not a known problem`, [
          { field: 'problemId', message: `"${input.problemId}" is not a known problem` },
        ]);
      }
      const submitted = await this.deps.submissions.submit({ ...input, requestId: candidateId });
      this.log('info', 'submission accepted', { requestId: submitted.requestId, userId: input.userId, problemId: input.problemId, language: input.language });
      if (signalCheck?.ok && this.deps.signals) {
        const record = { requestId: submitted.requestId, userId: input.userId, problemId: input.problemId, signals: signalCheck.value, sourceChars: input.sourceCode.length };
        this.deps.signals.save(record).catch((error) => this.log('warn', 'paste signals not stored', { requestId: submitted.requestId, error: (error as Error).message }));
      }
      sendJson(res, 202, submitted, { location: `/api/submissions/${submitted.requestId}` });
    } catch (error) {
      this.debouncer.release(key, candidateId);
      throw error;
    }
  }

  private reviewService(): ReviewService {
    if (!this.deps.reviews) throw new HttpError(503, 'review_unavailable', 'code review is not enabled on this gateway');
    return this.deps.reviews;
  }

  private async requestReview(req: http.IncomingMessage, res: http.ServerResponse, requestId: string): Promise<void> {
    const reviews = this.reviewService();
    const validation = validateReviewRequest(await readJsonBody(req, 4096, this.opts.bodyTimeoutMs));
    if (!validation.ok) throw new HttpError(400, 'invalid_review_request', 'the review request is invalid: ' + validation.errors.map((e) => `${e.field} ${e.message}`).join('; '), validation.errors);
    const outcome = await reviews.request(requestId, validation.value.userId, { regenerate: validation.value.regenerate });
    sendJson(res, outcome.created ? 201 : 200, outcome.review);
  }

  private async review(res: http.ServerResponse, requestId: string): Promise<void> {
    sendJson(res, 200, await this.reviewService().get(requestId));
  }

  private async lookup(res: http.ServerResponse, requestId: string): Promise<void> {
    const view = await this.deps.submissions.lookup(requestId);
    if (!view) throw new HttpError(404, 'not_found', `no submission ${requestId}`);
    sendJson(res, 200, view);
  }

  private async events(req: http.IncomingMessage, res: http.ServerResponse, requestId: string, url: URL): Promise<void> {
    // Last-Event-ID from the browser's reconnect, or a query parameter for clients that cannot set headers.
    const lastEventId = headerValue(req.headers['last-event-id']) ?? url.searchParams.get('lastEventId') ?? undefined;
    if (decodeEventId(lastEventId).final) {
      // 204 tells EventSource to stop reconnecting: the client has everything.
      res.writeHead(204, { 'cache-control': 'no-store' });
      res.end();
      return;
    }
    if (!(await this.deps.submissions.lookup(requestId))) throw new HttpError(404, 'not_found', `no submission ${requestId}`);

    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: ${this.opts.sseRetryMs ?? 2000}\n${formatSseComment('stream open')}`);
    this.streams.add(res);
    const abort = new AbortController();
    const stop = () => abort.abort();
    req.once('close', stop);
    res.once('close', stop);
    const heartbeat = setInterval(() => res.write(formatSseComment('heartbeat')), this.opts.heartbeatMs ?? 15_000);
    try {
      for await (const event of this.deps.submissions.events(requestId, { lastEventId, signal: abort.signal })) {
        if (abort.signal.aborted) break;
        res.write(formatSseEvent({ id: event.id, event: event.type, data: JSON.stringify(ssePayload(event)) }));
      }
    } catch (error) {
      if (!abort.signal.aborted) {
        this.log('error', 'event stream failed', { requestId, error: (error as Error).message });
        res.write(formatSseEvent({ event: 'stream-error', data: JSON.stringify({ message: 'the gateway lost track of this grading; reconnecting' }) }));
      }
    } finally {
      clearInterval(heartbeat);
      this.streams.delete(res);
      req.removeListener('close', stop);
      res.end();
    }
  }

  private async problem(res: http.ServerResponse, problemId: string): Promise<void> {
    if (!PROBLEM_ID_PATTERN.test(problemId)) throw new HttpError(400, 'invalid_problem_id', `"${problemId.slice(0, 80)}" is not a problem id`);
    const details = await this.deps.problems.get(problemId);
    if (!details) throw new HttpError(404, 'not_found', `no problem ${problemId}`);
    sendJson(res, 200, details);
  }

  private async health(res: http.ServerResponse): Promise<void> {
    const report = await this.deps.health();
    sendJson(res, report.ok ? 200 : 503, { status: report.ok ? 'ok' : 'unavailable', ...report.checks, streams: this.streams.size });
  }

  private staticFile(req: http.IncomingMessage, res: http.ServerResponse, pathname: string): void {
    const asset = this.assets.get(pathname);
    if (!asset) throw new HttpError(404, 'not_found', `no page ${pathname}`);
    const headers = {
      'content-type': asset.contentType,
      etag: asset.etag,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
      'referrer-policy': 'same-origin',
    };
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': String(asset.body.length) });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  }

  /** Adds CORS headers for allowed origins; answers preflights. Returns true when the request is done. */
  private cors(req: http.IncomingMessage, res: http.ServerResponse, method: string): boolean {
    const origin = req.headers.origin;
    if (!origin || !this.opts.corsOrigins?.includes(origin)) return false;
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('vary', 'origin');
    res.setHeader('access-control-expose-headers', 'location, retry-after');
    if (method !== 'OPTIONS') return false;
    res.writeHead(204, {
      'access-control-allow-methods': 'GET, POST, DELETE',
      'access-control-allow-headers': 'content-type, last-event-id',
      'access-control-max-age': '600',
    });
    res.end();
    return true;
  }

  private clientAddress(req: http.IncomingMessage): string {
    if (this.opts.trustProxy) {
      // The ALB appends the address it saw: the last entry is the one a client cannot forge.
      const forwarded = headerValue(req.headers['x-forwarded-for'])?.split(',').map((s) => s.trim()).filter(Boolean);
      if (forwarded?.length) return forwarded[forwarded.length - 1];
    }
    return req.socket.remoteAddress ?? 'unknown';
  }

  private fail(res: http.ServerResponse, error: unknown): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    if (error instanceof HttpError) {
      sendJson(res, error.status, error.body(), error.headers);
      return;
    }
    const message = (error as Error)?.message ?? String(error);
    this.log('error', 'request failed', { error: message });
    sendJson(res, 503, { error: 'unavailable', message: 'the grading service is temporarily unavailable; try again shortly' }, { 'retry-after': '5' });
  }
}

/** The JSON each SSE event carries: a case event is the test result plus its request id; final is the result document. */
export function ssePayload(event: GatewayEvent): unknown {
  if (event.type === 'final') return event.result;
  return { requestId: event.requestId, ...event.testResult, ...(event.totalCases ? { totalCases: event.totalCases } : {}) };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function methodNotAllowed(allowed: string): HttpError {
  return new HttpError(405, 'method_not_allowed', `use ${allowed}`, undefined, { allow: allowed });
}

function rateLimited(retryAfterSeconds: number, who: string): HttpError {
  return new HttpError(429, 'rate_limited', `too many submissions from ${who}; retry in ${retryAfterSeconds} s`, undefined, { 'retry-after': String(retryAfterSeconds) });
}
