/**
 * Delivers a request's final result to its webhook exactly once across gateway instances: every
 * instance sees every final event, so the first to INSERT the request's row in webhook_deliveries
 * owns the delivery; the others stop. The owner POSTs the signed result, retrying 5xx, 408, 429,
 * timeouts and connection errors with exponential back-off and jitter up to maxAttempts, and
 * records each attempt (status, response code, error) in the row. A row left `retrying` by an
 * instance that stopped is taken over once its lease has run out (see WebhookDeliveryStore.claim).
 */
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import type { Pool } from 'mysql2/promise';
import { ForbiddenTargetError, pinnedLookup, Resolver, systemResolver, vetHost } from './addressGuard';
import { DELIVERY_HEADER, signPayload, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './signature';

export interface WebhookTarget {
  url: string;
  secret: string;
}

export interface WebhookAttempt {
  attempt: number;
  /** delivered: 2xx; failed: no 2xx (retried when `retryable`); refused: the URL or its addresses are not allowed. */
  status: 'delivered' | 'failed' | 'refused';
  responseCode?: number;
  error?: string;
  retryable?: boolean;
}

/** The row's status: pending (claimed), retrying (waiting for the next attempt), then delivered, failed or refused. */
export type DeliveryStatus = 'pending' | 'retrying' | 'delivered' | 'failed' | 'refused';

export interface WebhookDeliveryStore {
  /**
   * Claims the delivery: true for the first caller (INSERT of the request id), or for a caller taking
   * over a row still pending/retrying whose last update is older than `leaseMs`. Returns the attempts
   * already made (0 for a new claim), or undefined when another instance owns the delivery.
   */
  claim(requestId: string, url: string, leaseMs: number): Promise<number | undefined>;
  record(requestId: string, attempt: WebhookAttempt, status: DeliveryStatus): Promise<void>;
}

export const WEBHOOK_DELIVERIES_TABLE = 'webhook_deliveries';

export class MysqlWebhookDeliveryStore implements WebhookDeliveryStore {
  constructor(private readonly pool: Pool) {}

  async claim(requestId: string, url: string, leaseMs: number): Promise<number | undefined> {
    const [inserted] = await this.pool.query(
      `INSERT IGNORE INTO ${WEBHOOK_DELIVERIES_TABLE} (request_id, url, status, attempts) VALUES (?, ?, 'pending', 0)`,
      [requestId, url],
    );
    if ((inserted as { affectedRows: number }).affectedRows === 1) return 0;
    // Take over a delivery whose owner stopped between attempts (its row has not moved for a lease).
    const [taken] = await this.pool.query(
      `UPDATE ${WEBHOOK_DELIVERIES_TABLE} SET status = 'pending'
        WHERE request_id = ? AND status IN ('pending', 'retrying') AND updated_at < NOW(3) - INTERVAL ? MICROSECOND`,
      [requestId, Math.round(leaseMs * 1000)],
    );
    if ((taken as { affectedRows: number }).affectedRows !== 1) return undefined;
    const [rows] = await this.pool.query(`SELECT attempts FROM ${WEBHOOK_DELIVERIES_TABLE} WHERE request_id = ?`, [requestId]);
    return Number((rows as Array<{ attempts: number }>)[0]?.attempts ?? 0);
  }

  async record(requestId: string, a: WebhookAttempt, status: DeliveryStatus): Promise<void> {
    const entry = JSON.stringify({ ...a, at: new Date().toISOString() });
    await this.pool.query(
      `UPDATE ${WEBHOOK_DELIVERIES_TABLE} SET status = ?, attempts = ?, last_response_code = ?, last_error = ?,
         attempt_log = JSON_ARRAY_APPEND(COALESCE(attempt_log, JSON_ARRAY()), '$', JSON_EXTRACT(?, '$')) WHERE request_id = ?`,
      [status, a.attempt, a.responseCode ?? null, a.error?.slice(0, 500) ?? null, entry, requestId],
    );
  }
}

export interface DispatcherOptions {
  store: WebhookDeliveryStore;
  /** Local stack only (ENVIRONMENT=local): http and private or loopback targets. */
  allowPrivate: boolean;
  maxAttempts?: number;
  /** First retry after about this long (0.5-1x with jitter), doubling each time. */
  baseDelayMs?: number;
  timeoutMs?: number;
  /** PEM bundle trusted for receivers instead of Node's public CAs. */
  ca?: string;
  now?: () => number;
  random?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  resolve?: Resolver;
}

/** The stable id of a request's delivery (the same on every attempt and instance): receivers drop repeats by it. */
export function deliveryId(requestId: string): string {
  return 'dlv_' + createHash('sha256').update(`webhook:${requestId}`).digest('hex').slice(0, 32);
}

/** 5xx, 408 Request Timeout and 429 Too Many Requests may succeed later; other answers will not. */
export function isRetryableStatus(code: number): boolean {
  return code >= 500 || code === 408 || code === 429;
}

export class WebhookDispatcher {
  readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly timeoutMs: number;
  private readonly closing = new AbortController();

  constructor(private readonly opts: DispatcherOptions) {
    this.maxAttempts = opts.maxAttempts ?? 6;
    this.baseDelayMs = opts.baseDelayMs ?? 2000;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** How long a claimed row may stay untouched before another instance takes it over: longer than any wait here. */
  get leaseMs(): number {
    return this.baseDelayMs * 2 ** Math.max(0, this.maxAttempts - 2) + this.timeoutMs + 60_000;
  }

  /** The wait before attempt n+1: base * 2^(n-1), scaled by a random 0.5-1 so that instances do not retry in step. */
  backoffMs(n: number): number {
    return Math.round(this.baseDelayMs * 2 ** (n - 1) * (0.5 + (this.opts.random ?? Math.random)() / 2));
  }

  /** Claims and delivers; returns the attempts made here (empty when another instance owns the delivery). */
  async deliver(requestId: string, target: WebhookTarget, result: unknown): Promise<WebhookAttempt[]> {
    if (this.closing.signal.aborted) return []; // claim nothing: another instance or the sweep delivers it
    const done = await this.opts.store.claim(requestId, target.url, this.leaseMs);
    if (done === undefined) return [];
    const body = JSON.stringify(result);
    const attempts: WebhookAttempt[] = [];
    for (let n = done + 1; n <= this.maxAttempts && !this.closing.signal.aborted; n++) {
      const attempt = await this.tryOnce(n, requestId, target, body);
      attempts.push(attempt);
      const again = attempt.status === 'failed' && attempt.retryable === true && n < this.maxAttempts;
      await this.opts.store.record(requestId, attempt, again ? 'retrying' : attempt.status);
      if (!again) break;
      await (this.opts.sleep ?? abortableSleep)(this.backoffMs(n), this.closing.signal);
    }
    return attempts;
  }

  /** Stops waiting between attempts; an unfinished delivery stays `retrying` for another instance to take over. */
  close(): void {
    this.closing.abort();
  }

  private async tryOnce(attempt: number, requestId: string, target: WebhookTarget, body: string): Promise<WebhookAttempt> {
    let url: URL;
    let vetted: Array<{ address: string; family: number }>;
    try {
      url = new URL(target.url);
      if (url.protocol !== 'https:' && !(this.opts.allowPrivate && url.protocol === 'http:')) {
        throw new ForbiddenTargetError(`webhook URL must use https (got ${url.protocol})`);
      }
      vetted = await vetHost(url.hostname, this.opts.allowPrivate, this.opts.resolve ?? systemResolver);
    } catch (e) {
      // A forbidden or malformed target stays so; a failed DNS lookup (SERVFAIL, timeout, NXDOMAIN) may pass later.
      if (e instanceof ForbiddenTargetError || e instanceof TypeError) return { attempt, status: 'refused', error: (e as Error).message };
      return { attempt, status: 'failed', error: (e as Error).message, retryable: true };
    }
    const timestamp = Math.floor((this.opts.now ?? Date.now)() / 1000);
    const headers = {
      'Content-Type': 'application/json',
      'User-Agent': 'grading-stack-webhooks/1',
      [SIGNATURE_HEADER]: signPayload(target.secret, timestamp, body),
      [TIMESTAMP_HEADER]: String(timestamp),
      [DELIVERY_HEADER]: deliveryId(requestId),
    };
    try {
      const code = await post(url, vetted, body, headers, this.timeoutMs, this.opts.ca);
      if (code >= 200 && code < 300) return { attempt, status: 'delivered', responseCode: code };
      return { attempt, status: 'failed', responseCode: code, retryable: isRetryableStatus(code) };
    } catch (e) {
      // Timeouts, refused or reset connections, TLS failures: the receiver may be back later.
      return { attempt, status: 'failed', error: (e as Error).message, retryable: true };
    }
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

/**
 * POSTs to a vetted address; Host and TLS server name stay the URL's host name; redirects are not
 * followed; no pooled socket (each request connects to the address vetted for it). Only the status
 * line is read: the response body is dropped unread.
 */
function post(
  url: URL,
  vetted: Array<{ address: string; family: number }>,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
  ca?: string,
): Promise<number> {
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'Content-Length': Buffer.byteLength(body) },
        lookup: pinnedLookup(vetted),
        timeout: timeoutMs,
        agent: false,
        ...(ca && url.protocol === 'https:' ? { ca } : {}),
      },
      (res) => {
        resolve(res.statusCode ?? 0);
        res.destroy();
      },
    );
    const overall = setTimeout(() => req.destroy(new Error(`webhook timed out after ${timeoutMs} ms`)), timeoutMs);
    req.on('close', () => clearTimeout(overall));
    req.on('timeout', () => req.destroy(new Error(`webhook timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
