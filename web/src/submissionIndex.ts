/**
 * Who submitted what (the gateway's `submissions` table, created by migration step 3 in core/src/db/migrations.ts):
 * the owner check behind every per-submission route, and the caller's own list, newest first,
 * paged by an opaque cursor.
 */
import type { Pool, RowDataPacket } from 'mysql2/promise';

export interface SubmissionRecord {
  requestId: string;
  userId: string;
  problemId: string;
  language: string;
  priority: boolean;
  /** ISO 8601. */
  createdAt: string;
  /** Where its final result is POSTed (webhooks/), already checked; kept in submission_webhooks. */
  callbackUrl?: string;
}

export interface SubmissionSummary {
  requestId: string;
  problemId: string;
  language: string;
  createdAt: string;
  status: 'pending' | 'completed' | 'failed';
  verdict?: string;
  score?: number;
}

export interface SubmissionPage {
  submissions: SubmissionSummary[];
  /** Pass as `cursor` for the next (older) page; absent on the last page. */
  nextCursor?: string;
}

export interface SubmissionIndex {
  record(submission: SubmissionRecord): Promise<void>;
  /** Removes a record whose submission never reached the broker. */
  forget(requestId: string): Promise<void>;
  /** The submitting user's id, or undefined when the gateway never recorded the request. */
  owner(requestId: string): Promise<string | undefined>;
  list(userId: string, page: { limit: number; cursor?: string }): Promise<SubmissionPage>;
}

/** Cursor: the last row's (created_at, request_id), base64url JSON. Invalid cursors throw CursorError. */
export class CursorError extends Error {}

export function encodeCursor(createdAt: string, requestId: string): string {
  return Buffer.from(JSON.stringify([createdAt, requestId])).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: string; requestId: string } {
  try {
    const [createdAt, requestId] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof createdAt === 'string' && typeof requestId === 'string' && !Number.isNaN(Date.parse(createdAt)))
      return { createdAt, requestId };
  } catch {
    // fall through
  }
  throw new CursorError('cursor is not one this API handed out');
}

export class MysqlSubmissionIndex implements SubmissionIndex {
  /** siteWebhook: the site has a WEBHOOK_URL, so every submission expects a delivery (url NULL: the site's). */
  constructor(
    private readonly pool: Pool,
    private readonly opts: { siteWebhook?: boolean } = {},
  ) {}

  /** Fails with a clear message when the migration has not created the table. */
  async check(): Promise<void> {
    try {
      await this.pool.query('SELECT 1 FROM submissions LIMIT 0');
    } catch (error) {
      throw new Error(
        `the gateway's tables are missing or not readable (${(error as Error).message}); run the database migration: npm run db:migrate`,
      );
    }
  }

  async record(s: SubmissionRecord): Promise<void> {
    await this.pool.execute(
      'INSERT INTO submissions (request_id, user_id, problem_id, language, priority, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      [s.requestId, s.userId, s.problemId, s.language, s.priority ? 1 : 0, new Date(s.createdAt)],
    );
    if (!s.callbackUrl && !this.opts.siteWebhook) return;
    try {
      await this.pool.execute('INSERT INTO submission_webhooks (request_id, url) VALUES (?, ?)', [s.requestId, s.callbackUrl ?? null]);
    } catch (error) {
      await this.forget(s.requestId).catch(() => undefined);
      throw error;
    }
  }

  async forget(requestId: string): Promise<void> {
    await this.pool.execute('DELETE FROM submission_webhooks WHERE request_id = ?', [requestId]);
    await this.pool.execute('DELETE FROM submissions WHERE request_id = ?', [requestId]);
  }

  async owner(requestId: string): Promise<string | undefined> {
    const [rows] = await this.pool.execute<RowDataPacket[]>('SELECT user_id FROM submissions WHERE request_id = ?', [requestId]);
    return rows[0]?.user_id;
  }

  async list(userId: string, page: { limit: number; cursor?: string }): Promise<SubmissionPage> {
    const after = page.cursor ? decodeCursor(page.cursor) : undefined;
    const params: Array<string | Date> = [userId];
    let where = 's.user_id = ?';
    if (after) {
      where += ' AND (s.created_at < ? OR (s.created_at = ? AND s.request_id < ?))';
      params.push(new Date(after.createdAt), new Date(after.createdAt), after.requestId);
    }
    // LIMIT as a literal: prepared statements in MySQL 8 reject a bound LIMIT on some versions.
    const limit = Math.max(1, Math.min(100, Math.floor(page.limit)));
    const [rows] = await this.pool.execute<RowDataPacket[]>(
      `SELECT s.request_id, s.problem_id, s.language, s.created_at, r.status, r.verdict, r.score
         FROM submissions s LEFT JOIN grading_results r ON r.request_id = s.request_id
        WHERE ${where}
        ORDER BY s.created_at DESC, s.request_id DESC
        LIMIT ${limit + 1}`,
      params,
    );
    const submissions: SubmissionSummary[] = rows.slice(0, limit).map((row) => ({
      requestId: row.request_id,
      problemId: row.problem_id,
      language: row.language,
      createdAt: new Date(row.created_at).toISOString(),
      status: row.status === 'completed' || row.status === 'failed' ? row.status : 'pending',
      ...(row.verdict ? { verdict: row.verdict } : {}),
      ...(row.score !== null && row.score !== undefined ? { score: Number(row.score) } : {}),
    }));
    const last = submissions[submissions.length - 1];
    return { submissions, ...(rows.length > limit && last ? { nextCursor: encodeCursor(last.createdAt, last.requestId) } : {}) };
  }
}
