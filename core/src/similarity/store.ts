/**
 * Similarity data in MySQL: the winnowing fingerprints of each accepted submission (table
 * submission_fingerprints) and the paste signals sent with a submission (submission_signals).
 * Fingerprints are kept as JSON arrays of [hash, startLine, endLine]; sources stay in S3.
 */
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { FingerprintedSubmission } from './compare';
import type { SubmissionSignals } from './signals';
import type { Fingerprint } from './winnow';

/** DDL of these tables: applied by migration step 4 (core/src/db/migrations.ts), never by the store. */
export const SIMILARITY_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS submission_fingerprints (
    request_id VARCHAR(64) NOT NULL PRIMARY KEY,
    user_id VARCHAR(128) NOT NULL,
    problem_id VARCHAR(64) NOT NULL,
    language VARCHAR(16) NOT NULL,
    fingerprints JSON NOT NULL,
    source_chars INT NOT NULL,
    accepted_at TIMESTAMP(3) NOT NULL,
    KEY idx_problem (problem_id, accepted_at)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  `CREATE TABLE IF NOT EXISTS submission_signals (
    request_id VARCHAR(64) NOT NULL PRIMARY KEY,
    user_id VARCHAR(128) NOT NULL,
    problem_id VARCHAR(64) NOT NULL,
    signals JSON NOT NULL,
    source_chars INT NOT NULL,
    created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
];

export interface StoredSignals {
  requestId: string;
  userId: string;
  problemId: string;
  signals: SubmissionSignals;
  sourceChars: number;
}

export class MysqlSimilarityStore {
  private constructor(readonly pool: Pool) {}

  /** On a pool whose database is migrated (the process checked requireMigrated at start). */
  static async create(pool: Pool): Promise<MysqlSimilarityStore> {
    return new MysqlSimilarityStore(pool);
  }

  /** Idempotent: a redelivered result writes the same row again. */
  async saveFingerprints(s: FingerprintedSubmission & { sourceChars: number }): Promise<void> {
    await this.pool.execute(
      `INSERT INTO submission_fingerprints (request_id, user_id, problem_id, language, fingerprints, source_chars, accepted_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE fingerprints = VALUES(fingerprints), source_chars = VALUES(source_chars)`,
      [
        s.requestId,
        s.userId,
        s.problemId,
        s.language,
        JSON.stringify(s.fingerprints.map((f) => [f.hash, f.startLine, f.endLine])),
        s.sourceChars,
        new Date(s.acceptedAt),
      ],
    );
  }

  async getFingerprints(requestId: string): Promise<FingerprintedSubmission | undefined> {
    const [rows] = await this.pool.execute<RowDataPacket[]>('SELECT * FROM submission_fingerprints WHERE request_id = ?', [requestId]);
    return rows.length ? fromRow(rows[0]) : undefined;
  }

  /** The problem's fingerprinted submissions, oldest first, at most `limit` (the latest ones). */
  async listForProblem(problemId: string, limit = 500): Promise<FingerprintedSubmission[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>(
      'SELECT * FROM (SELECT * FROM submission_fingerprints WHERE problem_id = ? ORDER BY accepted_at DESC LIMIT ?) AS latest ORDER BY accepted_at',
      [problemId, Math.max(1, Math.min(limit, 5000))],
    );
    return rows.map(fromRow);
  }

  async saveSignals(s: StoredSignals): Promise<void> {
    await this.pool.execute(
      `INSERT INTO submission_signals (request_id, user_id, problem_id, signals, source_chars) VALUES (?, ?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE request_id = request_id`,
      [s.requestId, s.userId, s.problemId, JSON.stringify(s.signals), s.sourceChars],
    );
  }

  async getSignals(requestId: string): Promise<StoredSignals | undefined> {
    const [rows] = await this.pool.execute<RowDataPacket[]>('SELECT * FROM submission_signals WHERE request_id = ?', [requestId]);
    if (!rows.length) return undefined;
    const r = rows[0];
    return {
      requestId: r.request_id,
      userId: r.user_id,
      problemId: r.problem_id,
      signals: parseJson(r.signals) as SubmissionSignals,
      sourceChars: Number(r.source_chars),
    };
  }
}

function fromRow(r: RowDataPacket): FingerprintedSubmission {
  const prints = parseJson(r.fingerprints) as Array<[number, number, number]>;
  return {
    requestId: r.request_id,
    userId: r.user_id,
    problemId: r.problem_id,
    language: r.language,
    fingerprints: prints.map(([hash, startLine, endLine]): Fingerprint => ({ hash, startLine, endLine })),
    acceptedAt: new Date(r.accepted_at).toISOString(),
  };
}

function parseJson(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}
