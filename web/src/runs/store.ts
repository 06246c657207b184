/**
 * Runs with custom input in the gateway's `code_runs` table (created by the migration in
 * db/schema.ts): who started which run (only they may read it), how many runs an account started
 * today (the daily budget, shared by every instance), and the result once a worker published it.
 * A run is not a submission: nothing here reaches grading_results or the submission list. Rows are
 * swept after RUN_RETENTION_DAYS.
 */
import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { RunResult } from '../../../core/src/contracts/run';

export const RUN_RETENTION_DAYS = 7;

export interface RunRecord {
  runId: string;
  userId: string;
  problemId: string;
  language: string;
  /** ISO 8601. */
  createdAt: string;
  result?: RunResult;
}

export interface RunStore {
  record(run: Omit<RunRecord, 'result'>): Promise<void>;
  /** Removes a run whose request never reached the broker. */
  forget(runId: string): Promise<void>;
  get(runId: string): Promise<RunRecord | undefined>;
  /** Stores a worker's result once (a second copy, from another instance's subscription, changes nothing). */
  saveResult(result: RunResult): Promise<boolean>;
  /** Runs the account started since `since` (the daily budget). */
  countSince(userId: string, since: Date): Promise<number>;
}

export class MysqlRunStore implements RunStore {
  private lastSweep = 0;

  constructor(private readonly pool: Pool) {}

  async record(run: Omit<RunRecord, 'result'>): Promise<void> {
    await this.pool.execute('INSERT INTO code_runs (run_id, user_id, problem_id, language, created_at) VALUES (?, ?, ?, ?, ?)', [
      run.runId,
      run.userId,
      run.problemId,
      run.language,
      new Date(run.createdAt),
    ]);
    // Old runs are of no use to anyone: sweep at most once an hour per instance.
    if (Date.now() - this.lastSweep > 3_600_000) {
      this.lastSweep = Date.now();
      await this.pool.execute('DELETE FROM code_runs WHERE created_at < NOW(3) - INTERVAL ? DAY LIMIT 1000', [RUN_RETENTION_DAYS]);
    }
  }

  async forget(runId: string): Promise<void> {
    await this.pool.execute('DELETE FROM code_runs WHERE run_id = ?', [runId]);
  }

  async get(runId: string): Promise<RunRecord | undefined> {
    const [rows] = await this.pool.execute<RowDataPacket[]>(
      'SELECT run_id, user_id, problem_id, language, created_at, result FROM code_runs WHERE run_id = ?',
      [runId],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      runId: row.run_id,
      userId: row.user_id,
      problemId: row.problem_id,
      language: row.language,
      createdAt: new Date(row.created_at).toISOString(),
      ...(row.result ? { result: JSON.parse(row.result) as RunResult } : {}),
    };
  }

  async saveResult(result: RunResult): Promise<boolean> {
    const [outcome] = await this.pool.execute<ResultSetHeader>(
      'UPDATE code_runs SET result = ?, finished_at = NOW(3) WHERE run_id = ? AND result IS NULL',
      [JSON.stringify(result), result.runId],
    );
    return outcome.affectedRows === 1;
  }

  async countSince(userId: string, since: Date): Promise<number> {
    const [rows] = await this.pool.execute<RowDataPacket[]>('SELECT COUNT(*) AS n FROM code_runs WHERE user_id = ? AND created_at >= ?', [
      userId,
      since,
    ]);
    return Number(rows[0]?.n ?? 0);
  }
}
