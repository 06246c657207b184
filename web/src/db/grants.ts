/**
 * Table privileges of each tier's database user, granted by `npm run db:migrate` (migrate.ts) after
 * the schema steps (core/src/db/migrations.ts). No tier gets DDL: the migration alone changes tables.
 */

export const GATEWAY_TABLES = {
  submissions: 'submissions',
  reviews: 'submission_reviews',
  reviewBudget: 'review_budget',
  streamTickets: 'stream_tickets',
  webhookDeliveries: 'webhook_deliveries',
  submissionWebhooks: 'submission_webhooks',
  runs: 'code_runs',
} as const;

/** Table privileges per tier: exactly these, nothing on other tables, no DDL. */
export const GATEWAY_GRANTS: Array<[table: string, privileges: string]> = [
  // The start-up check that every migration step is applied.
  ['schema_migrations', 'SELECT'],
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

/** The worker reads and writes results and checks the schema version at start; nothing else. */
export const WORKER_GRANTS: Array<[table: string, privileges: string]> = [
  ['schema_migrations', 'SELECT'],
  ['grading_results', 'SELECT, INSERT, UPDATE'],
];
