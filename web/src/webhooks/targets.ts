/**
 * Where a request's result goes, read from the gateway's tables so that any instance can deliver it:
 * `submissions` says the request came through this gateway (a site's results only, not every result
 * on the topic), `submission_callbacks` holds a per-request URL (written by submissionIndex.ts).
 */
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { DeliveryStatus } from './dispatcher';

export interface CallbackTargets {
  /** undefined: the request was not submitted through this gateway; else its own URL, if it named one. */
  lookup(requestId: string): Promise<{ callbackUrl?: string } | undefined>;
  /**
   * Finished requests (a row in grading_results) submitted within `sinceHours` that should have a
   * delivery but have none, or whose delivery was left pending/retrying longer than `leaseMs`.
   */
  missed(opts: { siteWide: boolean; leaseMs: number; sinceHours: number; limit: number }): Promise<string[]>;
}

const UNFINISHED: DeliveryStatus[] = ['pending', 'retrying'];

export class MysqlCallbackTargets implements CallbackTargets {
  constructor(private readonly pool: Pool) {}

  async lookup(requestId: string): Promise<{ callbackUrl?: string } | undefined> {
    const [rows] = await this.pool.execute<RowDataPacket[]>(
      'SELECT c.url FROM submissions s LEFT JOIN submission_callbacks c ON c.request_id = s.request_id WHERE s.request_id = ?',
      [requestId],
    );
    if (rows.length === 0) return undefined;
    return rows[0].url ? { callbackUrl: String(rows[0].url) } : {};
  }

  async missed(opts: { siteWide: boolean; leaseMs: number; sinceHours: number; limit: number }): Promise<string[]> {
    const limit = Math.max(1, Math.min(500, Math.floor(opts.limit)));
    const [rows] = await this.pool.query<RowDataPacket[]>(
      `SELECT s.request_id FROM submissions s
         JOIN grading_results r ON r.request_id = s.request_id AND r.status IN ('completed', 'failed')
         LEFT JOIN submission_callbacks c ON c.request_id = s.request_id
         LEFT JOIN webhook_deliveries d ON d.request_id = s.request_id
        WHERE s.created_at > NOW(3) - INTERVAL ? HOUR
          AND (c.url IS NOT NULL OR ?)
          AND (d.request_id IS NULL OR (d.status IN (?) AND d.updated_at < NOW(3) - INTERVAL ? MICROSECOND))
        LIMIT ${limit}`,
      [opts.sinceHours, opts.siteWide, UNFINISHED, Math.round(opts.leaseMs * 1000)],
    );
    return rows.map((r) => String(r.request_id));
  }
}
