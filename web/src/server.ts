/**
 * The gateway's HTTP API (node:http, no framework) and the web page.
 *
 *   POST /api/submissions              submit; 202 {requestId, status: "submitted"}
 *   GET  /api/submissions[?mine]       the caller's own submissions, newest first (limit, cursor)
 *   GET  /api/submissions/:id          pending, or the grading result document
 *   POST /api/submissions/:id/stream-ticket  a short-lived ticket that opens the event stream (EventSource)
 *   GET  /api/submissions/:id/events   Server-Sent Events: `case` per finished test case, then `final`
 *   POST /api/submissions/:id/review   the author asks for a code review of a graded submission
 *   GET  /api/submissions/:id/review   the stored review
 *   GET  /api/workers                  whether any worker is taking submissions (from their heartbeats)
 *   POST /api/runs, GET /api/runs/:id  run code once on custom input (web/src/runs/, mounted as routes)
 *   GET  /api/problems, /api/problems/:id, /api/languages, /api/me (who the token names)
 *   GET  /api/auth (public: how to sign in), POST /api/dev/login (local stack only), the page.
 *   GET  /health/live (200 while serving: load balancer), /health/ready and /health (broker, database).
 *
 * Every /api/ route needs a bearer token (auth/authenticator.ts); the user is the token's `sub`,
 * never a body field. A submission's routes answer its author and staff, 404 to everyone else.
 * State lives in S3 and the database, live progress comes from the topic every instance
 * subscribes to, so any instance behind the load balancer can answer any request.
 * See docs/web-integration.md for the contract with examples.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { LANGUAGES, LANGUAGE_IDS, OfferedLanguage } from '../../core/src/languages';
import { AuthError, Authenticator, Principal } from './auth/authenticator';
import { newRequestId } from './client';
import { SubmissionDebouncer, submissionKey } from './debounce';
import type { GatewayEvent } from './eventCursor';
import { HttpError, readJsonBody, sendJson } from './http';
import { dispatchRoutes } from './extensions/routes';
import { TokenBucketLimiter } from './rateLimit';
import { splitSignals, validateSignals } from '../../core/src/similarity/signals';
import { ReviewError, ReviewErrorReason } from './review/errors';
import { decodeEventId, formatSseComment, formatSseEvent } from './sse';
import { loadStaticAssets, StaticAsset } from './staticAssets';
import type { StreamTicketStore } from './streamTickets';
import { CursorError, SubmissionIndex } from './submissionIndex';
import { callbackUrlErrors, splitCallbackUrl } from './webhooks/callbackUrl';
import type { ApiRoutes, CodeReviews, DevLogin, HealthReport, ProblemSource, SignalRecorder, SubmissionService } from './ports';
import {
  DEFAULT_MAX_SOURCE_BYTES,
  REQUEST_ID_PATTERN,
  PROBLEM_ID_PATTERN,
  SubmissionInput,
  validateReviewRequest,
  validateSubmissionBody,
} from './validation';
import type { WorkerPresenceReport } from './workerPresence';

export interface GatewayDeps {
  submissions: SubmissionService;
  /** Verifies the bearer token of every /api/ request. */
  auth: Authenticator;
  /** Who submitted what: ownership and the caller's list. */
  index: SubmissionIndex;
  /** Tickets that open an event stream without a header. */
  tickets: StreamTicketStore;
  devLogin?: DevLogin;
  problems: ProblemSource;
  health: () => Promise<HealthReport>;
  /** Worker presence from heartbeats; absent, /api/workers answers status "unknown". */
  workers?: () => WorkerPresenceReport;
  /** Code review on request; absent, the review routes answer 503. */
  reviews?: CodeReviews;
  /** Languages of the executor in use (names and versions it reports); absent or undefined: plain labels. */
  languages?: () => Promise<OfferedLanguage[] | undefined>;
  log?: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
  /** Further API routes (GitHub link, staff signals: web/src/extensions/), asked after the built-in ones. */
  routes?: ApiRoutes[];
  /** Stores the optional paste signals of a submission; a failure is logged and never fails the submission. */
  signals?: SignalRecorder;
  /** Checks a submission's optional callbackUrl (web/src/webhooks/); absent, a callbackUrl is refused. */
  webhooks?: { checkCallbackUrl(value: unknown): string[] };
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
  /** Lifetime of a stream ticket, seconds. Default 300. */
  streamTicketTtlSeconds?: number;
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
  private readonly ticketLimiter = new TokenBucketLimiter({ capacity: 30, refillPerSecond: 1 });
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
    if (!pathname.startsWith('/api/')) {
      if (method === 'GET' || method === 'HEAD') return this.staticFile(req, res, pathname);
      throw methodNotAllowed('GET');
    }
    // Public: how the page should sign in (no token needed to ask).
    if (pathname === '/api/auth' && method === 'GET')
      return sendJson(res, 200, {
        mode: this.deps.auth.mode,
        devLogin: Boolean(this.deps.devLogin),
        review: Boolean(this.deps.reviews?.enabled),
      });
    if (pathname === '/api/dev/login' && this.deps.devLogin) {
      if (method !== 'POST') throw methodNotAllowed('POST');
      // Local development only, and only from this machine: never hand out tokens over a network.
      if (!isLoopback(req.socket.remoteAddress))
        throw new HttpError(403, 'forbidden', 'the development login answers loopback clients only');
      return this.devLogin(req, res);
    }

    const submission = /^\/api\/submissions\/([^/]+)(\/events|\/review|\/stream-ticket)?$/.exec(pathname);
    const ticket = url.searchParams.get('ticket');
    if (submission?.[2] === '/events' && ticket !== null && !req.headers.authorization)
      return this.eventsByTicket(req, res, submission[1], ticket, url);
    const caller = await this.authenticate(req);
    if (pathname === '/api/submissions') {
      if (method === 'POST') return this.submit(req, res, caller);
      if (method === 'GET') return this.list(res, caller, url);
      throw methodNotAllowed('GET, POST');
    }
    if (submission) return this.submissionRoute(req, res, caller, url, submission[1], submission[2]);
    if (pathname === '/api/workers' && method === 'GET') return sendJson(res, 200, this.workers(), { 'cache-control': 'no-store' });
    if (pathname === '/api/problems' && method === 'GET') return sendJson(res, 200, { problems: await this.deps.problems.list() });
    const problem = /^\/api\/problems\/([^/]+)$/.exec(pathname);
    if (problem && method === 'GET') return this.problem(res, decodePathSegment(problem[1]));
    if (pathname === '/api/languages' && method === 'GET')
      return sendJson(res, 200, { languages: await this.languages(), maxSourceBytes: this.maxSourceBytes });
    if (pathname === '/api/me' && method === 'GET')
      return sendJson(res, 200, { userId: caller.userId, roles: caller.roles, staff: caller.staff, mayPrioritize: caller.mayPrioritize });
    if (this.deps.routes?.length) {
      const readBody = (limit: number) => readJsonBody(req, limit, this.opts.bodyTimeoutMs);
      const principal = { userId: caller.userId, staff: caller.staff };
      const clientAddress = this.clientAddress(req);
      const query = url.searchParams;
      const answer = await dispatchRoutes(this.deps.routes, { method, pathname, query, principal, readBody, clientAddress });
      if (answer)
        return answer.status === 204
          ? void res.writeHead(204, answer.headers).end()
          : sendJson(res, answer.status, answer.body, answer.headers);
    }
    throw new HttpError(404, 'not_found', `no API route ${method} ${pathname}`);
  }

  /** /api/submissions/:id[/events|/review|/stream-ticket]: the author or staff only. */
  private async submissionRoute(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    caller: Principal,
    url: URL,
    encodedId: string,
    part?: string,
  ): Promise<void> {
    const method = req.method ?? 'GET';
    const allowed = part === '/review' ? ['GET', 'POST'] : part === '/stream-ticket' ? ['POST'] : ['GET'];
    if (!allowed.includes(method)) throw methodNotAllowed(allowed.join(', '));
    const requestId = this.requestIdFrom(encodedId);
    await this.authorize(caller, requestId);
    if (part === '/review') return method === 'POST' ? this.requestReview(req, res, requestId, caller) : this.review(res, requestId);
    if (part === '/stream-ticket') return this.streamTicket(res, requestId, caller);
    if (part === '/events') return this.events(req, res, requestId, url);
    return this.lookup(res, requestId);
  }

  /** EventSource cannot send headers: the stream opens with a ticket its owner asked for instead (ownership was checked then). */
  private async eventsByTicket(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    encodedId: string,
    ticket: string,
    url: URL,
  ): Promise<void> {
    if (req.method !== 'GET') throw methodNotAllowed('GET');
    const requestId = this.requestIdFrom(encodedId);
    if (!(await this.deps.tickets.redeem(ticket, requestId))) {
      throw unauthorized(
        new AuthError(401, 'invalid_token', 'the stream ticket is unknown, expired or for another submission: ask for a new one'),
      );
    }
    return this.events(req, res, requestId, url);
  }

  private requestIdFrom(encodedId: string): string {
    const requestId = decodePathSegment(encodedId);
    if (!REQUEST_ID_PATTERN.test(requestId))
      throw new HttpError(400, 'invalid_request_id', `"${requestId.slice(0, 80)}" is not a request id (req_...)`);
    return requestId;
  }

  /** The caller from `Authorization: Bearer` (never from the query: URLs end up in access logs); 401 with WWW-Authenticate otherwise. */
  private async authenticate(req: http.IncomingMessage): Promise<Principal> {
    const header = headerValue(req.headers.authorization);
    let token: string | undefined;
    if (header !== undefined) {
      const match = /^Bearer[ ]+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header);
      if (!match) throw unauthorized(new AuthError(401, 'invalid_token', 'the Authorization header must be "Bearer <token>"'));
      token = match[1];
    }
    try {
      return await this.deps.auth.authenticate(token, headerValue(req.headers['x-dev-user']));
    } catch (error) {
      if (error instanceof AuthError) throw unauthorized(error);
      throw error;
    }
  }

  /** Author or staff; anyone else gets the same 404 as for an id that does not exist. */
  private async authorize(caller: Principal, requestId: string): Promise<void> {
    if (caller.staff) return;
    const owner = await this.deps.index.owner(requestId);
    if (owner !== caller.userId) throw new HttpError(404, 'not_found', `no submission ${requestId}`);
  }

  private async devLogin(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = (await readJsonBody(req, 4096, this.opts.bodyTimeoutMs)) as Record<string, unknown> | null;
    const userId = body?.userId;
    const roles = body?.roles ?? [];
    const errors = [];
    if (typeof userId !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/.test(userId))
      errors.push({ field: 'userId', message: 'must be 1-64 letters, digits or _ . @ -' });
    if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string' && /^[A-Za-z0-9_-]{1,32}$/.test(r)))
      errors.push({ field: 'roles', message: 'must be a list of role names' });
    if (errors.length) throw new HttpError(400, 'invalid_login', 'the login is invalid', errors);
    sendJson(res, 200, await this.deps.devLogin!(userId as string, roles as string[]));
  }

  private async streamTicket(res: http.ServerResponse, requestId: string, caller: Principal): Promise<void> {
    // Each ticket is a row: a per-account bucket keeps one account from filling the table.
    const allowed = this.ticketLimiter.take(caller.userId);
    if (!allowed.allowed)
      throw new HttpError(
        429,
        'rate_limited',
        `too many stream tickets for your account; retry in ${allowed.retryAfterSeconds} s`,
        undefined,
        { 'retry-after': String(allowed.retryAfterSeconds) },
      );
    const ttl = this.opts.streamTicketTtlSeconds ?? 300;
    const ticket = await this.deps.tickets.issue(caller.userId, requestId, ttl);
    sendJson(res, 201, { ticket, expiresIn: ttl, eventsUrl: `/api/submissions/${requestId}/events?ticket=${ticket}` });
  }

  private async list(res: http.ServerResponse, caller: Principal, url: URL): Promise<void> {
    const rawLimit = url.searchParams.get('limit');
    const limit = rawLimit === null ? 20 : Number(rawLimit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100)
      throw new HttpError(400, 'invalid_query', `limit must be an integer 1..100 (got "${rawLimit}")`);
    try {
      sendJson(res, 200, await this.deps.index.list(caller.userId, { limit, cursor: url.searchParams.get('cursor') ?? undefined }));
    } catch (error) {
      if (error instanceof CursorError) throw new HttpError(400, 'invalid_query', error.message);
      throw error;
    }
  }

  private async submit(req: http.IncomingMessage, res: http.ServerResponse, caller: Principal): Promise<void> {
    const address = this.clientAddress(req);
    const byAddress = this.ipLimiter.take(address);
    if (!byAddress.allowed) throw rateLimited(byAddress.retryAfterSeconds, 'this address');

    // JSON escaping can double the source's size, plus room for the other fields.
    const body = await readJsonBody(req, this.maxSourceBytes * 2 + 4096, this.opts.bodyTimeoutMs);
    // Paste signals are optional and validated on their own (core/src/similarity/signals.ts).
    const { rest, signals } = splitSignals(body);
    const signalCheck = signals === undefined ? undefined : validateSignals(signals);
    // The webhook for this submission's result (web/src/webhooks/), checked on its own like the signals.
    const { rest: fields, callbackUrl } = splitCallbackUrl(rest);
    const callbackErrors = callbackUrl === undefined ? [] : callbackUrlErrors(this.deps.webhooks, callbackUrl);
    const validation = validateSubmissionBody(fields, { maxSourceBytes: this.maxSourceBytes });
    const errors = [
      ...(validation.ok ? [] : validation.errors),
      ...(signalCheck && !signalCheck.ok ? signalCheck.errors : []),
      ...callbackErrors,
    ];
    if (!validation.ok || errors.length) {
      throw new HttpError(
        400,
        'invalid_submission',
        'the submission is invalid: ' + errors.map((e) => `${e.field} ${e.message}`).join('; '),
        errors,
      );
    }
    const input: SubmissionInput = { ...validation.value, userId: caller.userId };
    if (input.priority && !caller.mayPrioritize) {
      throw new HttpError(403, 'forbidden', 'queueing on the priority queue needs a staff or priority role', [
        { field: 'priority', message: 'needs a staff or priority role' },
      ]);
    }

    // Debounce before the rate limit: a double click must not cost two tokens.
    const key = submissionKey(input);
    const candidateId = newRequestId();
    const existing = this.debouncer.claim(key, candidateId);
    if (existing)
      return sendJson(
        res,
        202,
        { requestId: existing, status: 'submitted', duplicate: true },
        { location: `/api/submissions/${existing}` },
      );

    const byUser = this.userLimiter.take(input.userId);
    if (!byUser.allowed) {
      this.debouncer.release(key, candidateId);
      throw rateLimited(byUser.retryAfterSeconds, 'your account');
    }
    let recorded = false;
    try {
      if (!(await this.deps.problems.exists(input.problemId))) {
        throw new HttpError(400, 'invalid_submission', `the submission is invalid: problemId "${input.problemId}" is not a known problem`, [
          { field: 'problemId', message: `"${input.problemId}" is not a known problem` },
        ]);
      }
      // Recorded before it is queued, so its owner is known by the time any event about it exists.
      await this.deps.index.record({
        requestId: candidateId,
        userId: input.userId,
        problemId: input.problemId,
        language: input.language,
        priority: Boolean(input.priority),
        createdAt: new Date().toISOString(),
        ...(typeof callbackUrl === 'string' ? { callbackUrl } : {}),
      });
      recorded = true;
      const submitted = await this.deps.submissions.submit({ ...input, requestId: candidateId });
      this.log('info', 'submission accepted', {
        requestId: submitted.requestId,
        userId: input.userId,
        problemId: input.problemId,
        language: input.language,
      });
      if (signalCheck?.ok && this.deps.signals) {
        const record = {
          requestId: submitted.requestId,
          userId: input.userId,
          problemId: input.problemId,
          signals: signalCheck.value,
          sourceChars: input.sourceCode.length,
        };
        this.deps.signals
          .save(record)
          .catch((error) =>
            this.log('warn', 'paste signals not stored', { requestId: submitted.requestId, error: (error as Error).message }),
          );
      }
      sendJson(res, 202, submitted, { location: `/api/submissions/${submitted.requestId}` });
    } catch (error) {
      this.debouncer.release(key, candidateId);
      if (recorded) await this.deps.index.forget(candidateId).catch(() => undefined);
      throw error;
    }
  }

  private reviewService(): CodeReviews {
    if (!this.deps.reviews) throw new HttpError(503, 'review_unavailable', 'code review is not enabled on this gateway');
    return this.deps.reviews;
  }

  private async requestReview(req: http.IncomingMessage, res: http.ServerResponse, requestId: string, caller: Principal): Promise<void> {
    const reviews = this.reviewService();
    const validation = validateReviewRequest(await readJsonBody(req, 4096, this.opts.bodyTimeoutMs));
    if (!validation.ok)
      throw new HttpError(
        400,
        'invalid_review_request',
        'the review request is invalid: ' + validation.errors.map((e) => `${e.field} ${e.message}`).join('; '),
        validation.errors,
      );
    const outcome = await reviews.request(requestId, caller.userId, {
      regenerate: validation.value.regenerate,
      clientAddress: this.clientAddress(req),
    });
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
        res.write(
          formatSseEvent({
            event: 'stream-error',
            data: JSON.stringify({ message: 'the gateway lost track of this grading; reconnecting' }),
          }),
        );
      }
    } finally {
      clearInterval(heartbeat);
      this.streams.delete(res);
      req.removeListener('close', stop);
      res.end();
    }
  }

  /** The executor's own names ("Java (OpenJDK 13.0.1)") when the worker published them; only languages it offers. */
  private async languages(): Promise<Array<{ id: string; label: string; version?: string; extension: string }>> {
    const offered = (await this.deps.languages?.().catch(() => undefined)) ?? [];
    const byId = new Map(offered.map((l) => [l.id, l]));
    return LANGUAGE_IDS.filter((id) => !offered.length || byId.has(id)).map((id) => ({
      id,
      label: byId.get(id)?.name ?? LANGUAGES[id].label,
      ...(byId.get(id)?.version ? { version: byId.get(id)!.version } : {}),
      extension: LANGUAGES[id].extension,
    }));
  }

  private async problem(res: http.ServerResponse, problemId: string): Promise<void> {
    if (!PROBLEM_ID_PATTERN.test(problemId))
      throw new HttpError(400, 'invalid_problem_id', `"${problemId.slice(0, 80)}" is not a problem id`);
    const details = await this.deps.problems.get(problemId);
    if (!details) throw new HttpError(404, 'not_found', `no problem ${problemId}`);
    sendJson(res, 200, details);
  }

  private async health(res: http.ServerResponse): Promise<void> {
    const report = await this.deps.health();
    // Workers are reported, not required: without them this gateway still queues submissions.
    sendJson(res, report.ok ? 200 : 503, {
      status: report.ok ? 'ok' : 'unavailable',
      ...report.checks,
      streams: this.streams.size,
      workers: this.workers(),
    });
  }

  private workers(): WorkerPresenceReport {
    return (
      this.deps.workers?.() ?? {
        status: 'unknown',
        workers: 0,
        message: 'worker presence is not tracked by this gateway',
        lastHeartbeatAt: null,
      }
    );
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
      'access-control-allow-headers': 'authorization, content-type, last-event-id',
      'access-control-max-age': '600',
    });
    res.end();
    return true;
  }

  private clientAddress(req: http.IncomingMessage): string {
    if (this.opts.trustProxy) {
      // The ALB appends the address it saw: the last entry is the one a client cannot forge.
      const forwarded = headerValue(req.headers['x-forwarded-for'])
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (forwarded?.length) return forwarded[forwarded.length - 1];
    }
    return req.socket.remoteAddress ?? 'unknown';
  }

  private fail(res: http.ServerResponse, error: unknown): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    if (error instanceof ReviewError) error = reviewHttpError(error);
    if (error instanceof HttpError) {
      sendJson(res, error.status, error.body(), error.headers);
      return;
    }
    const message = (error as Error)?.message ?? String(error);
    this.log('error', 'request failed', { error: message });
    sendJson(
      res,
      503,
      { error: 'unavailable', message: 'the grading service is temporarily unavailable; try again shortly' },
      { 'retry-after': '5' },
    );
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

/** A path segment, percent-decoded; malformed encoding (`%E0%A4%A`) is the client's error: 400. */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, 'invalid_path', `the path segment "${segment.slice(0, 80)}" is not valid percent-encoding`);
  }
}

/** RFC 6750: 401 with a WWW-Authenticate challenge; 503 when the identity provider's keys are unreachable. */
function unauthorized(error: AuthError): HttpError {
  if (error.status === 503) return new HttpError(503, error.code, error.message, undefined, { 'retry-after': '5' });
  const description = error.message.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, ' ');
  const challenge =
    error.code === 'missing_token'
      ? 'Bearer realm="grading"'
      : `Bearer realm="grading", error="invalid_token", error_description="${description}"`;
  return new HttpError(401, error.code, error.message, undefined, { 'www-authenticate': challenge });
}

/** The one place a review refusal becomes an HTTP status (the service itself knows no statuses). */
const REVIEW_STATUS: Record<ReviewErrorReason, { status: number; code: string }> = {
  disabled: { status: 503, code: 'review_unavailable' },
  'not-found': { status: 404, code: 'not_found' },
  'not-author': { status: 403, code: 'forbidden' },
  'not-graded': { status: 409, code: 'not_graded' },
  'not-gradable': { status: 409, code: 'not_gradable' },
  'source-gone': { status: 410, code: 'source_gone' },
  'budget-exhausted': { status: 429, code: 'rate_limited' },
  'reviewer-failed': { status: 502, code: 'review_failed' },
};

export function reviewHttpError(error: ReviewError): HttpError {
  const { status, code } = REVIEW_STATUS[error.reason];
  const { budget, retryAfterSeconds } = error.details;
  const headers: Record<string, string> = {
    ...(retryAfterSeconds !== undefined ? { 'retry-after': String(retryAfterSeconds) } : {}),
    ...(budget ? { 'x-budget': budget } : {}),
  };
  return new HttpError(status, code, error.message, undefined, headers);
}

function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

function methodNotAllowed(allowed: string): HttpError {
  return new HttpError(405, 'method_not_allowed', `use ${allowed}`, undefined, { allow: allowed });
}

function rateLimited(retryAfterSeconds: number, who: string): HttpError {
  return new HttpError(429, 'rate_limited', `too many submissions from ${who}; retry in ${retryAfterSeconds} s`, undefined, {
    'retry-after': String(retryAfterSeconds),
  });
}
