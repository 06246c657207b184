/**
 * Reviews in MySQL, next to the grading results they are about: one row per submission
 * (request id), replaced only when the author asks to regenerate; and the daily count of model
 * calls. The tables are created by migration step 3 (core/src/db/migrations.ts), not here.
 */
import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { Review } from './port';

/** What the review needs to know about a graded submission (from grading_results). */
export interface GradedSubmission {
  requestId: string;
  userId: string;
  problemId: string;
  language: string;
  status: 'pending' | 'completed' | 'failed';
  verdict?: string;
}

export interface StoredReview extends Review {
  requestId: string;
  verdict: string;
}

/** The storage the review service needs; MysqlReviewStore implements it. */
export interface ReviewStore {
  submission(requestId: string): Promise<GradedSubmission | undefined>;
  get(requestId: string): Promise<StoredReview | undefined>;
  /** Stores the review; without `replace`, an existing one wins (two instances racing keep the first). */
  save(review: StoredReview, userId: string, opts: { replace: boolean }): Promise<StoredReview>;
  /** Counts one model call against today's (UTC) budget; false when `limit` calls were already made today. */
  reserveModelCall(limit: number, now?: Date): Promise<boolean>;
}

export class MysqlReviewStore implements ReviewStore {
  private constructor(private readonly pool: Pool) {}

  /** On the gateway's one pool (web/src/wiring.ts); the tables come from the deploy-time migration. */
  static async create(pool: Pool): Promise<MysqlReviewStore> {
    await pool.query('SELECT 1 FROM submission_reviews, review_budget LIMIT 0');
    return new MysqlReviewStore(pool);
  }

  async reserveModelCall(limit: number, now = new Date()): Promise<boolean> {
    const day = now.toISOString().slice(0, 10);
    await this.pool.execute('INSERT IGNORE INTO review_budget (day, calls) VALUES (?, 0)', [day]);
    // One atomic conditional increment: every gateway instance shares the same count.
    const [result] = await this.pool.execute<ResultSetHeader>('UPDATE review_budget SET calls = calls + 1 WHERE day = ? AND calls < ?', [
      day,
      limit,
    ]);
    return result.affectedRows === 1;
  }

  async submission(requestId: string): Promise<GradedSubmission | undefined> {
    const [rows] = await this.pool.execute<RowDataPacket[]>(
      'SELECT request_id, user_id, problem_id, language, status, verdict FROM grading_results WHERE request_id = ?',
      [requestId],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      requestId: row.request_id,
      userId: row.user_id,
      problemId: row.problem_id,
      language: row.language,
      status: row.status,
      verdict: row.verdict ?? undefined,
    };
  }

  async get(requestId: string): Promise<StoredReview | undefined> {
    const [rows] = await this.pool.execute<RowDataPacket[]>('SELECT * FROM submission_reviews WHERE request_id = ?', [requestId]);
    const row = rows[0];
    if (!row) return undefined;
    return {
      requestId: row.request_id,
      verdict: row.verdict,
      text: row.review_text,
      model: row.model,
      promptVersion: row.prompt_version,
      createdAt: new Date(row.created_at).toISOString(),
    };
  }

  async save(review: StoredReview, userId: string, opts: { replace: boolean }): Promise<StoredReview> {
    const values = [review.requestId, userId, review.verdict, review.text, review.model, review.promptVersion, new Date(review.createdAt)];
    const insert =
      'INSERT INTO submission_reviews (request_id, user_id, verdict, review_text, model, prompt_version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)';
    if (opts.replace) {
      await this.pool.execute(
        `${insert} ON DUPLICATE KEY UPDATE verdict = VALUES(verdict), review_text = VALUES(review_text), model = VALUES(model),
           prompt_version = VALUES(prompt_version), created_at = VALUES(created_at), generations = generations + 1`,
        values,
      );
    } else {
      await this.pool.execute(`${insert} ON DUPLICATE KEY UPDATE request_id = request_id`, values);
    }
    return (await this.get(review.requestId))!;
  }
}
