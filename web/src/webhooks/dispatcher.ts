/**
 * Delivers a request's final result to its webhook exactly once across gateway instances: every
 * instance sees every final event, so the first to INSERT the request's row in webhook_deliveries
 * owns the delivery; the others stop. The owner POSTs the signed result, retrying with exponential
 * back-off up to maxAttempts, and records each attempt (status, response code, error) in the row.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { Pool } from 'mysql2/promise';
import { pinnedLookup, Resolver, systemResolver, vetHost } from './addressGuard';
import { signPayload, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './signature';

export interface WebhookTarget {
  url: string;
  secret: string;
}

export interface WebhookAttempt {
  attempt: number;
  status: 'delivered' | 'failed' | 'refused';
  responseCode?: number;
  error?: string;
}

export interface WebhookDeliveryStore {
  /** True when this caller claimed the delivery (first INSERT of the request id). */
  claim(requestId: string, url: string): Promise<boolean>;
  record(requestId: string, attempt: WebhookAttempt): Promise<void>;
}

export const WEBHOOK_DELIVERIES_TABLE = 'webhook_deliveries';

export class MysqlWebhookDeliveryStore implements WebhookDeliveryStore {
  constructor(private readonly pool: Pool) {}

  async claim(requestId: string, url: string): Promise<boolean> {
    const [res] = await this.pool.query(
      `INSERT IGNORE INTO ${WEBHOOK_DELIVERIES_TABLE} (request_id, url, status, attempts) VALUES (?, ?, 'pending', 0)`,
      [requestId, url],
    );
    return (res as { affectedRows: number }).affectedRows === 1;
  }

  async record(requestId: string, a: WebhookAttempt): Promise<void> {
    await this.pool.query(
      `UPDATE ${WEBHOOK_DELIVERIES_TABLE} SET status = ?, attempts = ?, last_response_code = ?, last_error = ?,
         attempt_log = JSON_ARRAY_APPEND(COALESCE(attempt_log, JSON_ARRAY()), '$', JSON_EXTRACT(?, '$')) WHERE request_id = ?`,
      [a.status, a.attempt, a.responseCode ?? null, a.error?.slice(0, 500) ?? null, JSON.stringify(a), requestId],
    );
  }
}

export interface DispatcherOptions {
  store: WebhookDeliveryStore;
  /** Only on a local stack (WEBHOOK_ALLOW_PRIVATE=true, refused in production): private targets and http. */
  allowPrivate: boolean;
  maxAttempts?: number;
  baseDelayMs?: number;
  timeoutMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  resolve?: Resolver;
}

export class WebhookDispatcher {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;

  constructor(private readonly opts: DispatcherOptions) {
    this.maxAttempts = opts.maxAttempts ?? 5;
    this.baseDelayMs = opts.baseDelayMs ?? 1000;
  }

  /** Claims and delivers; returns the attempts made (empty when another instance owns the delivery). */
  async deliver(requestId: string, target: WebhookTarget, result: unknown): Promise<WebhookAttempt[]> {
    if (!(await this.opts.store.claim(requestId, target.url))) return [];
    const body = JSON.stringify(result);
    const attempts: WebhookAttempt[] = [];
    for (let n = 1; n <= this.maxAttempts; n++) {
      const attempt = await this.tryOnce(n, target, body);
      attempts.push(attempt);
      await this.opts.store.record(requestId, attempt);
      if (attempt.status !== 'failed') break;
      if (n < this.maxAttempts) await (this.opts.sleep ?? defaultSleep)(this.baseDelayMs * 2 ** (n - 1));
    }
    return attempts;
  }

  private async tryOnce(attempt: number, target: WebhookTarget, body: string): Promise<WebhookAttempt> {
    let url: URL;
    let vetted: Array<{ address: string; family: number }>;
    try {
      url = new URL(target.url);
      if (url.protocol !== 'https:' && !(this.opts.allowPrivate && url.protocol === 'http:')) {
        throw new Error(`webhook URL must use https (got ${url.protocol})`);
      }
      vetted = await vetHost(url.hostname, this.opts.allowPrivate, this.opts.resolve ?? systemResolver);
    } catch (e) {
      return { attempt, status: 'refused', error: (e as Error).message };
    }
    const timestamp = Math.floor((this.opts.now ?? Date.now)() / 1000);
    try {
      const code = await post(url, vetted, body, {
        'Content-Type': 'application/json',
        [SIGNATURE_HEADER]: signPayload(target.secret, timestamp, body),
        [TIMESTAMP_HEADER]: String(timestamp),
      }, this.opts.timeoutMs ?? 10_000);
      return code >= 200 && code < 300 ? { attempt, status: 'delivered', responseCode: code } : { attempt, status: 'failed', responseCode: code };
    } catch (e) {
      return { attempt, status: 'failed', error: (e as Error).message };
    }
  }
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** POSTs to a vetted address; Host and TLS servername stay the URL's host name; redirects are not followed. */
function post(url: URL, vetted: Array<{ address: string; family: number }>, body: string, headers: Record<string, string>, timeoutMs: number): Promise<number> {
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(url, {
      method: 'POST',
      headers: { ...headers, 'Content-Length': Buffer.byteLength(body) },
      lookup: pinnedLookup(vetted),
      timeout: timeoutMs,
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`webhook timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
