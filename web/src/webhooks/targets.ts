/**
 * Where a request's result goes, read from `submission_webhooks` (written with the submission by
 * submissionIndex.ts) so that any gateway instance can deliver it: a row exists for every submission
 * made through the gateway with a callbackUrl, or while the site had a WEBHOOK_URL (url NULL). Results
 * of requests without a row (other sites on the same queues, submissions from before) are not delivered.
 */
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { DeliveryStatus } from './dispatcher';

export interface CallbackTargets {
  /** undefined: no webhook for this request; else its own URL, or none (the site's URL applies). */
  lookup(requestId: string): Promise<{ callbackUrl?: string } | undefined>;
  /**
   * Finished requests (a final row in grading_results) registered within `sinceHours` that have no
   * delivery yet, or whose delivery was left pending/retrying longer than `leaseMs`. Rows meant for
   * the site's URL count only when `siteWide` (a site URL is configured now).
   */
  missed(opts: { siteWide: boolean; leaseMs: number; sinceHours: number; limit: number }): Promise<string[]>;
}

const UNFINISHED: DeliveryStatus[] = ['pending', 'retrying'];

export class MysqlCallbackTargets implements CallbackTargets {
  constructor(private readonly pool: Pool) {}

  async lookup(requestId: string): Promise<{ callbackUrl?: string } | undefined> {
    const [rows] = await this.pool.execute<RowDataPacket[]>('SELECT url FROM submission_webhooks WHERE request_id = ?', [requestId]);
    if (rows.length === 0) return undefined;
    return rows[0].url ? { callbackUrl: String(rows[0].url) } : {};
  }

  async missed(opts: { siteWide: boolean; leaseMs: number; sinceHours: number; limit: number }): Promise<string[]> {
    const limit = Math.max(1, Math.min(500, Math.floor(opts.limit)));
    // Driven by submission_webhooks' created_at index: the recent rows only, however large the tables grow.
    const [rows] = await this.pool.query<RowDataPacket[]>(
      `SELECT w.request_id FROM submission_webhooks w
         JOIN grading_results r ON r.request_id = w.request_id AND r.status IN ('completed', 'failed')
         LEFT JOIN webhook_deliveries d ON d.request_id = w.request_id
        WHERE w.created_at > NOW(3) - INTERVAL ? HOUR
          AND (w.url IS NOT NULL OR ?)
          AND (d.request_id IS NULL OR (d.status IN (?) AND d.updated_at < NOW(3) - INTERVAL ? MICROSECOND))
        LIMIT ${limit}`,
      [opts.sinceHours, opts.siteWide, UNFINISHED, Math.round(opts.leaseMs * 1000)],
    );
    return rows.map((r) => String(r.request_id));
  }
}
