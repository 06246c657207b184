/**
 * Grading results in MySQL: one row per request (idempotent upsert), attempt counting (the broker
 * redelivers after a crash without limit, so the worker keeps its own count), and the result cache
 * keyed by problem + language + source + test-case version + limits.
 */
import mysql, { Pool, RowDataPacket } from 'mysql2/promise';
import type { GradingResult } from '../contracts/result';

export interface MysqlOptions {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  /** Amazon RDS requires TLS (require_secure_transport); local MariaDB has none. */
  ssl?: boolean;
  connectionLimit?: number;
}

export interface StoredResult {
  requestId: string;
  status: 'completed' | 'failed';
  document: GradingResult;
}

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS grading_results (
    request_id VARCHAR(64) NOT NULL PRIMARY KEY,
    user_id VARCHAR(128) NULL,
    problem_id VARCHAR(64) NULL,
    language VARCHAR(16) NULL,
    status VARCHAR(16) NOT NULL DEFAULT 'pending',
    verdict VARCHAR(4) NULL,
    score DECIMAL(5,2) NULL,
    execution_time_ms INT NULL,
    memory_mb DECIMAL(8,1) NULL,
    test_results JSON NULL,
    result_json JSON NULL,
    error TEXT NULL,
    cache_key CHAR(64) NULL,
    attempts INT NOT NULL DEFAULT 0,
    created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    completed_at TIMESTAMP(3) NULL,
    KEY idx_cache (cache_key, status),
    KEY idx_user (user_id, created_at)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
];

export interface RequestMeta {
  requestId: string;
  userId: string;
  problemId: string;
  language: string;
}

export class MysqlResultStore {
  private constructor(readonly pool: Pool) {}

  static async connect(opts: MysqlOptions): Promise<MysqlResultStore> {
    const pool = mysql.createPool({
      host: opts.host,
      port: opts.port,
      database: opts.database,
      user: opts.user,
      password: opts.password,
      ssl: opts.ssl ? { rejectUnauthorized: true } : undefined,
      connectionLimit: opts.connectionLimit ?? 5,
      connectTimeout: 10_000,
      enableKeepAlive: true,
    });
    const store = new MysqlResultStore(pool);
    for (const statement of SCHEMA) await pool.query(statement);
    return store;
  }

  /** Counts one more attempt at a request and returns the count (1 on first sight). */
  async beginAttempt(meta: RequestMeta): Promise<number> {
    await this.pool.execute(
      `INSERT INTO grading_results (request_id, user_id, problem_id, language, status, attempts) VALUES (?, ?, ?, ?, 'pending', 1)
       ON DUPLICATE KEY UPDATE attempts = attempts + 1`,
      [meta.requestId, meta.userId, meta.problemId, meta.language],
    );
    const [rows] = await this.pool.execute<RowDataPacket[]>('SELECT attempts FROM grading_results WHERE request_id = ?', [meta.requestId]);
    return Number(rows[0]?.attempts ?? 1);
  }

  /** Gives back an attempt that ended by a graceful shutdown, not by the request's fault. */
  async releaseAttempt(requestId: string): Promise<void> {
    await this.pool.execute("UPDATE grading_results SET attempts = GREATEST(attempts - 1, 0) WHERE request_id = ? AND status = 'pending'", [requestId]);
  }

  /**
   * Opens a failed request again for a replay from grading-dlq (`grading-stack dlq replay`): back
   * to pending with no attempts. A completed result is never reopened.
   */
  async reopenFailed(requestId: string): Promise<boolean> {
    const [result] = await this.pool.execute(
      "UPDATE grading_results SET status = 'pending', attempts = 0, verdict = NULL, score = NULL, result_json = NULL, error = NULL, completed_at = NULL WHERE request_id = ? AND status = 'failed'",
      [requestId],
    );
    return (result as { affectedRows?: number }).affectedRows === 1;
  }

  /** The final result, when the request has one (completed or failed). */
  async get(requestId: string): Promise<GradingResult | undefined> {
    const [rows] = await this.pool.execute<RowDataPacket[]>("SELECT result_json FROM grading_results WHERE request_id = ? AND status IN ('completed', 'failed')", [requestId]);
    return rows.length ? parseJson(rows[0].result_json) : undefined;
  }

  /** A completed result graded earlier for the same cache key. */
  async findCached(cacheKey: string): Promise<GradingResult | undefined> {
    const [rows] = await this.pool.execute<RowDataPacket[]>(
      "SELECT result_json FROM grading_results WHERE cache_key = ? AND status = 'completed' ORDER BY completed_at LIMIT 1",
      [cacheKey],
    );
    return rows.length ? parseJson(rows[0].result_json) : undefined;
  }

  /** Stores the final result; running it twice leaves one row with the same content. */
  async saveResult(meta: RequestMeta, result: GradingResult, cacheKey?: string): Promise<void> {
    const r = result.result;
    await this.pool.execute(
      `INSERT INTO grading_results (request_id, user_id, problem_id, language, status, verdict, score, execution_time_ms, memory_mb, test_results, result_json, error, cache_key, attempts, completed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, CURRENT_TIMESTAMP(3))
       ON DUPLICATE KEY UPDATE status = VALUES(status), verdict = VALUES(verdict), score = VALUES(score), execution_time_ms = VALUES(execution_time_ms),
         memory_mb = VALUES(memory_mb), test_results = VALUES(test_results), result_json = VALUES(result_json), error = VALUES(error),
         cache_key = VALUES(cache_key), completed_at = COALESCE(completed_at, VALUES(completed_at))`,
      [
        meta.requestId,
        meta.userId,
        meta.problemId,
        meta.language,
        result.status,
        r?.verdict ?? null,
        r?.score ?? null,
        r ? Math.round(r.executionTime) : null,
        r?.memoryUsage ?? null,
        r ? JSON.stringify(r.testResults) : null,
        JSON.stringify(result),
        result.error ?? null,
        cacheKey ?? null,
      ],
    );
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function parseJson(value: unknown): GradingResult {
  return (typeof value === 'string' ? JSON.parse(value) : value) as GradingResult;
}
