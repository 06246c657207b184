/**
 * Fault-injection runs: push a batch of grading requests through the real broker, worker, database
 * and S3 API, break something while they are in flight, then account for every request:
 *
 *   resolved     a final row in grading_results (completed or failed) or an entry in grading-dlq
 *   lost         neither, once the run has had time to finish
 *   duplicated   graded more than once (results with different timestamps on grading-results),
 *                dead-lettered more than once, or both dead-lettered and completed
 *
 * Re-publishing the same stored result after a redelivery is by design and not a duplicate.
 */
import mysql from 'mysql2/promise';
import type { LocalActiveMq } from '../../scripts/services/activemq';
import type { LocalMariaDb } from '../../scripts/services/mariadb';
import type { LocalS3 } from '../../scripts/services/s3';
import type { Language } from '../../core/src/languages';
import { BrokerSession } from '../../core/src/queue/session';
import { prepareRequest } from './workerHarness';

export interface FaultServices {
  broker: LocalActiveMq;
  db: LocalMariaDb;
  s3: LocalS3;
}

/** Follows grading-results and grading-dlq for the whole suite, across broker restarts. */
export class OutcomeCollector {
  readonly results = new Map<string, Array<{ timestamp: string; status: string; verdict?: string }>>();
  readonly deadLetters = new Map<string, Array<{ reason: string }>>();

  private constructor(readonly session: BrokerSession) {}

  static async open(broker: LocalActiveMq): Promise<OutcomeCollector> {
    const session = await BrokerSession.open({ ...broker.connectOptions(), heartbeatMs: 5000, initialBackoffMs: 200, maxBackoffMs: 2000 });
    const collector = new OutcomeCollector(session);
    session.subscribe('/queue/grading-results', (body) => {
      const result = JSON.parse(body) as { requestId: string; timestamp: string; status: string; result?: { verdict: string } };
      const list = collector.results.get(result.requestId) ?? [];
      list.push({ timestamp: result.timestamp, status: result.status, verdict: result.result?.verdict });
      collector.results.set(result.requestId, list);
    });
    session.subscribe('/queue/grading-dlq', (body, headers) => {
      let requestId: string | undefined = headers['correlation-id'];
      try {
        requestId ??= (JSON.parse(body) as { requestId?: string }).requestId;
      } catch {
        // not JSON: cannot belong to a run
      }
      if (!requestId) return;
      const list = collector.deadLetters.get(requestId) ?? [];
      list.push({ reason: headers['x-error-reason'] ?? headers.dlqDeliveryFailureCause ?? '' });
      collector.deadLetters.set(requestId, list);
    });
    return collector;
  }

  /** Requests graded so far (by their first result). */
  finished(ids: Iterable<string>): number {
    let n = 0;
    for (const id of ids) if (this.results.has(id) || this.deadLetters.has(id)) n++;
    return n;
  }

  close(): Promise<void> {
    return this.session.close();
  }
}

export interface Submission {
  language: Language;
  source: string;
}

/** A mix of accepted and wrong answers in Python and C; each source unique so no result is reused from the cache. */
export function workload(count: number, tag: string): Submission[] {
  const out: Submission[] = [];
  for (let i = 0; i < count; i++) {
    const mark = `${tag}-${i}`;
    if (i % 10 === 9)
      out.push({
        language: 'c',
        source: `/* ${mark} */\n#include <stdio.h>\nint main(void){long long a,b;scanf("%lld %lld",&a,&b);printf("%lld\\n",a+b);return 0;}\n`,
      });
    else if (i % 4 === 3) out.push({ language: 'python', source: `# ${mark}\na, b = map(int, input().split())\nprint(a - b)\n` });
    else out.push({ language: 'python', source: `# ${mark}\na, b = map(int, input().split())\nprint(a + b)\n` });
  }
  return out;
}

/** Stores the sources, then sends every request persistently to grading-requests; returns the request ids. */
export async function submitAll(services: FaultServices, session: BrokerSession, submissions: Submission[]): Promise<string[]> {
  const requests = await Promise.all(
    submissions.map((s) => prepareRequest(services.s3, { problemId: 'sum', language: s.language, source: s.source })),
  );
  for (const request of requests) {
    await session.send('/queue/grading-requests', JSON.stringify(request), {
      persistent: 'true',
      'content-type': 'application/json',
      'correlation-id': request.requestId,
    });
  }
  return requests.map((r) => r.requestId);
}

export interface Accounting {
  submitted: number;
  completed: number;
  failed: number;
  deadLettered: number;
  lost: string[];
  duplicated: string[];
  /** Dead-letter entries without a reason header. */
  withoutReason: string[];
  seconds: number;
}

async function finalRows(db: LocalMariaDb, ids: string[]): Promise<Map<string, { status: string; count: number }>> {
  const conn = await mysql.createConnection({ ...db.connectionOptions(), connectTimeout: 3000 });
  try {
    const [rows] = await conn.query(
      "SELECT request_id, status, COUNT(*) AS n FROM grading_results WHERE request_id IN (?) AND status IN ('completed', 'failed') GROUP BY request_id, status",
      [ids],
    );
    return new Map(
      (rows as Array<{ request_id: string; status: string; n: number }>).map((r) => [
        r.request_id,
        { status: r.status, count: Number(r.n) },
      ]),
    );
  } finally {
    await conn.end();
  }
}

/**
 * Waits until every request is resolved (and its result published), or `timeoutMs`; then waits
 * `settleMs` more for late duplicates and counts.
 */
export async function account(
  services: FaultServices,
  collector: OutcomeCollector,
  ids: string[],
  startedAt: number,
  opts: { timeoutMs: number; settleMs?: number },
): Promise<Accounting> {
  const deadline = Date.now() + opts.timeoutMs;
  let rows = new Map<string, { status: string; count: number }>();
  for (;;) {
    rows = await finalRows(services.db, ids).catch(() => rows);
    const open = ids.filter((id) => !collector.deadLetters.has(id) && !(rows.has(id) && collector.results.has(id)));
    if (open.length === 0 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  await new Promise((r) => setTimeout(r, opts.settleMs ?? 2000));
  rows = await finalRows(services.db, ids);

  const result: Accounting = {
    submitted: ids.length,
    completed: 0,
    failed: 0,
    deadLettered: 0,
    lost: [],
    duplicated: [],
    withoutReason: [],
    seconds: Math.round((Date.now() - startedAt) / 100) / 10,
  };
  for (const id of ids) {
    const row = rows.get(id);
    const dead = collector.deadLetters.get(id) ?? [];
    const gradings = new Set((collector.results.get(id) ?? []).map((r) => r.timestamp));
    if (row?.status === 'completed') result.completed++;
    if (row?.status === 'failed') result.failed++;
    if (dead.length) result.deadLettered++;
    if (!row && dead.length === 0) result.lost.push(id);
    if (gradings.size > 1 || dead.length > 1 || (row?.count ?? 0) > 1 || (dead.length > 0 && row?.status === 'completed'))
      result.duplicated.push(id);
    if (dead.some((d) => !d.reason)) result.withoutReason.push(id);
  }
  return result;
}

export function describeAccounting(name: string, a: Accounting): string {
  return `[fault] ${name}: ${a.submitted} submitted, ${a.completed} completed, ${a.failed} failed, ${a.deadLettered} dead-lettered; lost ${a.lost.length}, duplicated ${a.duplicated.length} (${a.seconds} s)`;
}

/** Resolves once `count` of `ids` have a result or a dead-letter entry. */
export async function untilFinished(collector: OutcomeCollector, ids: string[], count: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (collector.finished(ids) < count) {
    if (Date.now() > deadline) throw new Error(`only ${collector.finished(ids)} of ${count} requests finished within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
