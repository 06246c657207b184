/**
 * MIGRATION: the gateway's own tables. This is the only place their DDL lives; it runs at deploy
 * time through `npm run db:migrate` (web/src/db/cli.ts) as the master user, never at run time by
 * the gateway (whose database user has no CREATE privilege). The worker's table, grading_results,
 * keeps its DDL in core/src/results/mysqlStore.ts; the migration creates it through that module.
 *
 * Changing a table: add a statement at the end of GATEWAY_MIGRATIONS (never edit an applied one);
 * each statement must be safe to run again (IF NOT EXISTS / IF EXISTS).
 */

import { SIMILARITY_SCHEMA } from '../../../core/src/similarity/store';
import { SOLUTIONS_SCHEMA } from '../../../core/src/solutions/store';

export const GATEWAY_TABLES = {
  submissions: 'submissions',
  reviews: 'submission_reviews',
  reviewBudget: 'review_budget',
  streamTickets: 'stream_tickets',
  webhookDeliveries: 'webhook_deliveries',
  submissionWebhooks: 'submission_webhooks',
  runs: 'code_runs',
} as const;

export const GATEWAY_MIGRATIONS: string[] = [
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
  // GitHub links and commits of accepted solutions; fingerprints and paste signals (worker/src/solutions, similarity).
  ...SOLUTIONS_SCHEMA,
  ...SIMILARITY_SCHEMA,
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
  // Submissions whose result goes to a webhook: their own callbackUrl, or NULL for the site's WEBHOOK_URL. Any gateway
  // instance delivers from here; the catch-up sweep reads recent rows by created_at.
  `CREATE TABLE IF NOT EXISTS submission_webhooks (
    request_id VARCHAR(64) NOT NULL PRIMARY KEY,
    url VARCHAR(2048) NULL,
    created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    KEY idx_created (created_at)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
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
];

/** Table privileges per tier: exactly these, nothing on other tables, no DDL. */
export const GATEWAY_GRANTS: Array<[table: string, privileges: string]> = [
  ['grading_results', 'SELECT'],
  [GATEWAY_TABLES.submissions, 'SELECT, INSERT, DELETE'],
  [GATEWAY_TABLES.reviews, 'SELECT, INSERT, UPDATE'],
  [GATEWAY_TABLES.reviewBudget, 'SELECT, INSERT, UPDATE'],
  [GATEWAY_TABLES.streamTickets, 'SELECT, INSERT, DELETE'],
  // The caller's GitHub link (POST/GET/DELETE /api/github/link) and the commit URLs shown on the page.
  ['github_links', 'SELECT, INSERT, UPDATE, DELETE'],
  ['solution_commits', 'SELECT'],
  // Paste signals arrive with a submission; staff read them with the fingerprints the solutions process writes.
  ['submission_signals', 'SELECT, INSERT, UPDATE'],
  ['submission_fingerprints', 'SELECT'],
  // Webhooks: claim a delivery (INSERT), record its attempts (UPDATE).
  [GATEWAY_TABLES.webhookDeliveries, 'SELECT, INSERT, UPDATE'],
  // Where a submission's result goes: written with the submission, removed with it when it never reached the broker.
  [GATEWAY_TABLES.submissionWebhooks, 'SELECT, INSERT, DELETE'],
  // Runs: start (INSERT), read and count, store the result (UPDATE), forget a failed start and sweep old rows (DELETE).
  [GATEWAY_TABLES.runs, 'SELECT, INSERT, UPDATE, DELETE'],
];

/**
 * The worker reads and writes results. CREATE on its one table only, because the worker's store
 * runs `CREATE TABLE IF NOT EXISTS grading_results` at start, which MySQL checks even when the
 * table exists; it grants nothing on any other table.
 */
export const WORKER_GRANTS: Array<[table: string, privileges: string]> = [['grading_results', 'SELECT, INSERT, UPDATE, CREATE']];
