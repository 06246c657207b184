/**
 * Reviews in MySQL, next to the grading results they are about: one row per submission
 * (request id), replaced only when the author asks to regenerate.
 */
import type { Pool, RowDataPacket } from 'mysql2/promise';
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
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS submission_reviews (
  request_id VARCHAR(64) NOT NULL PRIMARY KEY,
  user_id VARCHAR(128) NOT NULL,
  verdict VARCHAR(4) NOT NULL,
  review_text MEDIUMTEXT NOT NULL,
  model VARCHAR(128) NOT NULL,
  prompt_version VARCHAR(32) NOT NULL,
  created_at TIMESTAMP(3) NOT NULL,
  generations INT NOT NULL DEFAULT 1
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;

export class MysqlReviewStore implements ReviewStore {
  private constructor(private readonly pool: Pool) {}

  /** Uses the gateway's pool; creates the table when missing. */
  static async create(pool: Pool): Promise<MysqlReviewStore> {
    await pool.query(SCHEMA);
    return new MysqlReviewStore(pool);
  }

  async submission(requestId: string): Promise<GradedSubmission | undefined> {
    const [rows] = await this.pool.execute<RowDataPacket[]>('SELECT request_id, user_id, problem_id, language, status, verdict FROM grading_results WHERE request_id = ?', [requestId]);
    const row = rows[0];
    if (!row) return undefined;
    return { requestId: row.request_id, userId: row.user_id, problemId: row.problem_id, language: row.language, status: row.status, verdict: row.verdict ?? undefined };
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
    const insert = 'INSERT INTO submission_reviews (request_id, user_id, verdict, review_text, model, prompt_version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)';
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
