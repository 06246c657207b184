/**
 * Linked repositories and the commits made for submissions, in MySQL.
 *
 * github_links: one per user; the token only as sealed by an Encryptor (never in plain text), a
 * status that turns `invalid` (with the reason) when GitHub refuses the token, and a link id so a
 * late failure cannot invalidate a newer link made in between.
 *
 * solution_commits: one row per submission (request id), the idempotency record. A publisher claims
 * the row with a lease before calling GitHub; a committed row is never published again, and a claim
 * held by someone else is left alone until its lease runs out (a crashed publisher).
 */
import { randomBytes } from 'node:crypto';
import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';

/** DDL of these tables: applied by migration step 4 (core/src/db/migrations.ts), never by the store. */
export const SOLUTIONS_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS github_links (
    user_id VARCHAR(128) NOT NULL PRIMARY KEY,
    link_id CHAR(24) NOT NULL,
    repository VARCHAR(140) NOT NULL,
    path_template VARCHAR(200) NOT NULL,
    token_sealed TEXT NOT NULL,
    status VARCHAR(16) NOT NULL DEFAULT 'active',
    invalid_reason VARCHAR(500) NULL,
    linked_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  `CREATE TABLE IF NOT EXISTS solution_commits (
    request_id VARCHAR(64) NOT NULL PRIMARY KEY,
    user_id VARCHAR(128) NOT NULL,
    repository VARCHAR(140) NOT NULL,
    status VARCHAR(16) NOT NULL,
    path VARCHAR(300) NULL,
    commit_sha CHAR(40) NULL,
    commit_url VARCHAR(500) NULL,
    error VARCHAR(500) NULL,
    claim_id CHAR(24) NULL,
    lease_until TIMESTAMP(3) NULL,
    attempts INT NOT NULL DEFAULT 0,
    created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    KEY idx_user (user_id, created_at)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
];

export interface StoredLink {
  userId: string;
  linkId: string;
  repository: string;
  pathTemplate: string;
  tokenSealed: string;
  status: 'active' | 'invalid';
  invalidReason?: string;
  linkedAt: string;
}

export interface CommitRecord {
  requestId: string;
  userId: string;
  repository: string;
  status: 'publishing' | 'committed' | 'failed';
  path?: string;
  commitSha?: string;
  commitUrl?: string;
  error?: string;
  attempts: number;
  updatedAt: string;
}

export type Claim = { kind: 'claimed'; claimId: string } | { kind: 'done'; record: CommitRecord } | { kind: 'busy' };

export class MysqlSolutionStore {
  private constructor(readonly pool: Pool) {}

  /** On a pool whose database is migrated (the process checked requireMigrated at start). */
  static async create(pool: Pool): Promise<MysqlSolutionStore> {
    return new MysqlSolutionStore(pool);
  }

  async saveLink(link: { userId: string; repository: string; pathTemplate: string; tokenSealed: string }): Promise<StoredLink> {
    const linkId = randomBytes(12).toString('hex');
    await this.pool.execute(
      `INSERT INTO github_links (user_id, link_id, repository, path_template, token_sealed, status, invalid_reason) VALUES (?, ?, ?, ?, ?, 'active', NULL)
       ON DUPLICATE KEY UPDATE link_id = VALUES(link_id), repository = VALUES(repository), path_template = VALUES(path_template),
         token_sealed = VALUES(token_sealed), status = 'active', invalid_reason = NULL, linked_at = CURRENT_TIMESTAMP(3)`,
      [link.userId, linkId, link.repository, link.pathTemplate, link.tokenSealed],
    );
    return (await this.getLink(link.userId))!;
  }

  async getLink(userId: string): Promise<StoredLink | undefined> {
    const [rows] = await this.pool.execute<RowDataPacket[]>('SELECT * FROM github_links WHERE user_id = ?', [userId]);
    if (!rows.length) return undefined;
    const r = rows[0];
    return {
      userId: r.user_id,
      linkId: r.link_id,
      repository: r.repository,
      pathTemplate: r.path_template,
      tokenSealed: r.token_sealed,
      status: r.status,
      ...(r.invalid_reason ? { invalidReason: r.invalid_reason } : {}),
      linkedAt: new Date(r.linked_at).toISOString(),
    };
  }

  /** Removes the link (and with it the sealed token). True when there was one. */
  async deleteLink(userId: string): Promise<boolean> {
    const [result] = await this.pool.execute<ResultSetHeader>('DELETE FROM github_links WHERE user_id = ?', [userId]);
    return result.affectedRows > 0;
  }

  /** Marks exactly this link invalid; a newer link of the same user stays as it is. */
  async markLinkInvalid(userId: string, linkId: string, reason: string): Promise<void> {
    await this.pool.execute("UPDATE github_links SET status = 'invalid', invalid_reason = ? WHERE user_id = ? AND link_id = ?", [
      reason.slice(0, 500),
      userId,
      linkId,
    ]);
  }

  /** Claims the right to publish a submission for `leaseMs`; see the file comment. */
  async claim(requestId: string, userId: string, repository: string, leaseMs: number): Promise<Claim> {
    const claimId = randomBytes(12).toString('hex');
    // The lease runs on the database's clock, the one every publisher shares.
    const leaseMicros = Math.round(leaseMs * 1000);
    const [inserted] = await this.pool.execute<ResultSetHeader>(
      `INSERT IGNORE INTO solution_commits (request_id, user_id, repository, status, claim_id, lease_until, attempts) VALUES (?, ?, ?, 'publishing', ?, DATE_ADD(CURRENT_TIMESTAMP(3), INTERVAL ? MICROSECOND), 1)`,
      [requestId, userId, repository, claimId, leaseMicros],
    );
    if (inserted.affectedRows === 1) return { kind: 'claimed', claimId };
    const [taken] = await this.pool.execute<ResultSetHeader>(
      `UPDATE solution_commits SET status = 'publishing', claim_id = ?, lease_until = DATE_ADD(CURRENT_TIMESTAMP(3), INTERVAL ? MICROSECOND), repository = ?, attempts = attempts + 1, error = NULL
       WHERE request_id = ? AND (status = 'failed' OR (status = 'publishing' AND lease_until < CURRENT_TIMESTAMP(3)))`,
      [claimId, leaseMicros, repository, requestId],
    );
    if (taken.affectedRows === 1) return { kind: 'claimed', claimId };
    const record = await this.getCommit(requestId);
    return record?.status === 'committed' ? { kind: 'done', record } : { kind: 'busy' };
  }

  async recordCommitted(requestId: string, claimId: string, outcome: { path: string; commitSha?: string; url: string }): Promise<void> {
    await this.pool.execute(
      `UPDATE solution_commits SET status = 'committed', path = ?, commit_sha = ?, commit_url = ?, error = NULL, lease_until = NULL
       WHERE request_id = ? AND claim_id = ?`,
      [outcome.path, outcome.commitSha ?? null, outcome.url, requestId, claimId],
    );
  }

  async recordFailed(requestId: string, claimId: string, error: string): Promise<void> {
    await this.pool.execute(
      "UPDATE solution_commits SET status = 'failed', error = ?, lease_until = NULL WHERE request_id = ? AND claim_id = ?",
      [error.slice(0, 500), requestId, claimId],
    );
  }

  async getCommit(requestId: string): Promise<CommitRecord | undefined> {
    const [rows] = await this.pool.execute<RowDataPacket[]>('SELECT * FROM solution_commits WHERE request_id = ?', [requestId]);
    return rows.length ? commitFromRow(rows[0]) : undefined;
  }

  /** The user's latest commit records, newest first (the page shows their URLs). */
  async recentCommits(userId: string, limit = 10): Promise<CommitRecord[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>(
      'SELECT * FROM solution_commits WHERE user_id = ? ORDER BY created_at DESC LIMIT ?',
      [userId, Math.min(Math.max(limit, 1), 100)],
    );
    return rows.map(commitFromRow);
  }
}

function commitFromRow(r: RowDataPacket): CommitRecord {
  return {
    requestId: r.request_id,
    userId: r.user_id,
    repository: r.repository,
    status: r.status,
    ...(r.path ? { path: r.path } : {}),
    ...(r.commit_sha ? { commitSha: r.commit_sha } : {}),
    ...(r.commit_url ? { commitUrl: r.commit_url } : {}),
    ...(r.error ? { error: r.error } : {}),
    attempts: Number(r.attempts),
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}
