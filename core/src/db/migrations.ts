/**
 * The database schema as numbered migration steps, applied in order by `npm run db:migrate` (and the
 * ECS `migrate` init container) as the master user, and recorded in `schema_migrations`. The worker,
 * the gateway and the accepted-solutions process never run DDL: at start they only check that every
 * step is recorded (requireMigrated) and stop with a message naming the first missing one.
 *
 * Changing a table: append a step with the next version (never edit an applied one). Each step must
 * also be safe on a database made before versioning, whose tables already exist (IF NOT EXISTS, or
 * checking information_schema before ALTER), since those start with an empty schema_migrations.
 */
import type { RowDataPacket } from 'mysql2/promise';
import { SIMILARITY_SCHEMA } from '../similarity/store';
import { SOLUTIONS_SCHEMA } from '../solutions/store';

/** What a step needs: a connection or a pool (both have query). */
export interface Queryable {
  query<T extends RowDataPacket[]>(sql: string, values?: unknown[]): Promise<[T, unknown]>;
  query(sql: string, values?: unknown[]): Promise<unknown>;
}

export interface Migration {
  version: number;
  name: string;
  apply(db: Queryable): Promise<void>;
}

const statements =
  (...ddl: string[]) =>
  async (db: Queryable): Promise<void> => {
    for (const statement of ddl) await db.query(statement);
  };

/** grading_results as it is today (a table from an older release gets the later columns in step 2). */
const RESULTS_SCHEMA = [
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
    request_hash CHAR(64) NULL,
    source_sha256 CHAR(64) NULL,
    published_at TIMESTAMP(3) NULL,
    KEY idx_cache (cache_key, status),
    KEY idx_user (user_id, created_at)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
];

/** Columns grading_results gained after its first release (MySQL 8 has no ADD COLUMN IF NOT EXISTS). */
const RESULTS_ADDED_COLUMNS: Array<{ name: string; definition: string; backfill?: string }> = [
  { name: 'request_hash', definition: 'CHAR(64) NULL' },
  { name: 'source_sha256', definition: 'CHAR(64) NULL' },
  // Rows finished before this column existed were published when they finished.
  {
    name: 'published_at',
    definition: 'TIMESTAMP(3) NULL',
    backfill: "UPDATE grading_results SET published_at = completed_at WHERE status IN ('completed', 'failed')",
  },
];

async function addResultsColumns(db: Queryable): Promise<void> {
  const [rows] = await db.query<RowDataPacket[]>(
    "SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'grading_results'",
  );
  const present = new Set(rows.map((r) => String(r.name).toLowerCase()));
  for (const column of RESULTS_ADDED_COLUMNS.filter((c) => !present.has(c.name))) {
    await db.query(`ALTER TABLE grading_results ADD COLUMN ${column.name} ${column.definition}`);
    if (column.backfill) await db.query(column.backfill);
  }
}

/** Every step, oldest first; versions are 1, 2, 3, ... with no gaps. */
export const MIGRATIONS: readonly Migration[] = [
  // The worker's results: one row per request, the result cache (core/src/results/mysqlStore.ts).
  { version: 1, name: 'grading_results table', apply: statements(...RESULTS_SCHEMA) },
  // Tables made by an older release lack these; a new table already has them (the step is then a no-op).
  { version: 2, name: 'grading_results request_hash, source_sha256, published_at', apply: addResultsColumns },
  {
    version: 3,
    name: 'gateway tables: submissions, submission_reviews, review_budget, stream_tickets',
    apply: statements(
      // Who submitted what: ownership (404 to anyone else) and GET /api/submissions (the caller's own, newest first).
      `CREATE TABLE IF NOT EXISTS submissions (
        request_id VARCHAR(64) NOT NULL PRIMARY KEY,
        user_id VARCHAR(128) NOT NULL,
        problem_id VARCHAR(64) NOT NULL,
        language VARCHAR(16) NOT NULL,
        priority TINYINT(1) NOT NULL DEFAULT 0,
        created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        KEY idx_user_created (user_id, created_at, request_id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
      // Code reviews: one row per submission, replaced only when the author asks to regenerate.
      `CREATE TABLE IF NOT EXISTS submission_reviews (
        request_id VARCHAR(64) NOT NULL PRIMARY KEY,
        user_id VARCHAR(128) NOT NULL,
        verdict VARCHAR(4) NOT NULL,
        review_text MEDIUMTEXT NOT NULL,
        model VARCHAR(128) NOT NULL,
        prompt_version VARCHAR(32) NOT NULL,
        created_at TIMESTAMP(3) NOT NULL,
        generations INT NOT NULL DEFAULT 1
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
      // Model calls per UTC day, shared by every gateway instance (the global review budget).
      `CREATE TABLE IF NOT EXISTS review_budget (
        day DATE NOT NULL PRIMARY KEY,
        calls INT NOT NULL DEFAULT 0
      ) ENGINE=InnoDB`,
      // Short-lived tickets that open one submission's event stream (EventSource cannot send headers).
      `CREATE TABLE IF NOT EXISTS stream_tickets (
        ticket_hash CHAR(64) NOT NULL PRIMARY KEY,
        user_id VARCHAR(128) NOT NULL,
        request_id VARCHAR(64) NOT NULL,
        expires_at TIMESTAMP(3) NOT NULL,
        KEY idx_expires (expires_at)
      ) ENGINE=InnoDB`,
    ),
  },
  // GitHub links and commits of accepted solutions; fingerprints and paste signals (core/src/solutions, similarity).
  { version: 4, name: 'accepted-solution and similarity tables', apply: statements(...SOLUTIONS_SCHEMA, ...SIMILARITY_SCHEMA) },
  {
    version: 5,
    name: 'webhook_deliveries table',
    apply: statements(
      // Webhook deliveries: the first gateway instance to INSERT a request's row delivers it; each attempt is recorded.
      `CREATE TABLE IF NOT EXISTS webhook_deliveries (
        request_id VARCHAR(64) NOT NULL PRIMARY KEY,
        url VARCHAR(2048) NOT NULL,
        status VARCHAR(16) NOT NULL,
        attempts INT NOT NULL DEFAULT 0,
        last_response_code INT NULL,
        last_error VARCHAR(512) NULL,
        attempt_log JSON NULL,
        created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
    ),
  },
  {
    version: 6,
    name: 'submission_webhooks table',
    apply: statements(
      // Submissions whose result goes to a webhook: their own callbackUrl, or NULL for the site's WEBHOOK_URL. Any
      // gateway instance delivers from here; the catch-up sweep reads recent rows by created_at.
      `CREATE TABLE IF NOT EXISTS submission_webhooks (
        request_id VARCHAR(64) NOT NULL PRIMARY KEY,
        url VARCHAR(2048) NULL,
        created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        KEY idx_created (created_at)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
    ),
  },
  {
    version: 7,
    name: 'code_runs table',
    apply: statements(
      // Runs with custom input (web/src/runs/): owner, the daily budget per account, the result (bounded excerpts).
      `CREATE TABLE IF NOT EXISTS code_runs (
        run_id VARCHAR(64) NOT NULL PRIMARY KEY,
        user_id VARCHAR(128) NOT NULL,
        problem_id VARCHAR(64) NOT NULL,
        language VARCHAR(16) NOT NULL,
        created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        finished_at TIMESTAMP(3) NULL,
        result MEDIUMTEXT NULL,
        KEY idx_user_created (user_id, created_at),
        KEY idx_created (created_at)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
    ),
  },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INT NOT NULL PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  applied_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB`;

/** Two migrators at once (two deploys) wait for each other instead of interleaving steps. */
const LOCK_NAME = 'grading_schema_migrations';

/** The step a database lacks, named so an operator knows what to run. */
export class SchemaNotMigratedError extends Error {
  constructor(
    readonly missing: readonly Migration[],
    who: string,
  ) {
    const first = missing[0];
    super(
      `${who}: the database lacks migration step ${first.version} (${first.name})` +
        (missing.length > 1 ? ` and ${missing.length - 1} later step(s)` : '') +
        '; run npm run db:migrate (in production: the ECS migrate task) before starting it',
    );
    this.name = 'SchemaNotMigratedError';
  }
}

/** Versions recorded in schema_migrations; none when the table does not exist yet. */
export async function appliedVersions(db: Queryable): Promise<Set<number>> {
  try {
    const [rows] = await db.query<RowDataPacket[]>('SELECT version FROM schema_migrations');
    return new Set(rows.map((r) => Number(r.version)));
  } catch (error) {
    if ((error as { code?: string }).code === 'ER_NO_SUCH_TABLE') return new Set();
    throw error;
  }
}

export async function missingMigrations(db: Queryable, migrations: readonly Migration[] = MIGRATIONS): Promise<Migration[]> {
  const applied = await appliedVersions(db);
  return migrations.filter((m) => !applied.has(m.version));
}

/** At start of a worker or gateway: fails naming the first missing step. Reads only (SELECT on schema_migrations). */
export async function requireMigrated(db: Queryable, who: string, migrations: readonly Migration[] = MIGRATIONS): Promise<void> {
  let missing: Migration[];
  try {
    missing = await missingMigrations(db, migrations);
  } catch (error) {
    // A tier user from before numbered steps has no SELECT on schema_migrations: the migration grants it.
    if ((error as { code?: string }).code !== 'ER_TABLEACCESS_DENIED_ERROR') throw error;
    throw new Error(`${who}: cannot read schema_migrations (${(error as Error).message}); run npm run db:migrate, which grants it`);
  }
  if (missing.length) throw new SchemaNotMigratedError(missing, who);
}

/**
 * Applies the missing steps in order, recording each one as it completes; returns the steps applied now
 * (none when the database is current). `db` must be one connection: the lock belongs to the session.
 */
export async function applyMigrations(db: Queryable, migrations: readonly Migration[] = MIGRATIONS): Promise<Migration[]> {
  await db.query(MIGRATIONS_TABLE);
  const [locked] = await db.query<RowDataPacket[]>('SELECT GET_LOCK(?, 60) AS got', [LOCK_NAME]);
  if (Number(locked[0]?.got) !== 1)
    throw new Error('another migration holds the schema lock for over 60 s; try again when it has finished');
  try {
    const applied: Migration[] = [];
    for (const migration of await missingMigrations(db, migrations)) {
      await migration.apply(db);
      await db.query('INSERT INTO schema_migrations (version, name) VALUES (?, ?)', [migration.version, migration.name]);
      applied.push(migration);
    }
    return applied;
  } finally {
    await db.query('SELECT RELEASE_LOCK(?)', [LOCK_NAME]);
  }
}
