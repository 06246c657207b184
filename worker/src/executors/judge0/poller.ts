/**
 * Polling Judge0 for many jobs at once, and when to poll.
 *
 * `BatchPoller`: one poll loop for every job in flight. A job asks for its tokens' state after a
 * delay; when a delay is up, the tokens of every job due within `mergeWindowMs` go into the same
 * `GET /submissions/batch?tokens=...` requests (up to the batch size each), so several submissions
 * in flight share a poll round instead of sending one each.
 *
 * `RunTimeEstimates`: how long Judge0 takes per case, learnt per Judge0 language from its own
 * timestamps (`created_at` to `finished_at` of a job's submissions, so late polls do not inflate
 * it). A job's first poll comes when its cases are expected to be final, not after a fixed 100 ms
 * and a back-off that overshoots.
 */
import type { Judge0Submission } from './statuses';

/** A token's answer: the submission, or null when Judge0 no longer knows it. Absent: not asked (not final yet). */
export type PollAnswers = Map<string, Judge0Submission | null>;

export interface BatchPollerDeps {
  /** Polls up to one batch of tokens; may leave out tokens that are not final. */
  fetch(tokens: string[], fullGetSize: number): Promise<Array<[string, Judge0Submission | null]>>;
  batchSize(): number;
  sleep(ms: number): Promise<void>;
  /** Jobs due this soon after the one whose delay is up are polled with it. */
  mergeWindowMs: number;
}

interface Waiter {
  tokens: string[];
  fullGetSize: number;
  dueAt: number;
  resolve(answers: PollAnswers): void;
  reject(error: unknown): void;
}

export class BatchPoller {
  private readonly waiting = new Set<Waiter>();

  constructor(private readonly deps: BatchPollerDeps) {}

  /** The state of `tokens` from a poll at least `delayMs` from now (or earlier, with another job's poll within the merge window). */
  poll(tokens: string[], delayMs: number, fullGetSize: number): Promise<PollAnswers> {
    return new Promise<PollAnswers>((resolve, reject) => {
      const waiter: Waiter = { tokens, fullGetSize, dueAt: Date.now() + delayMs, resolve, reject };
      this.waiting.add(waiter);
      void this.deps.sleep(delayMs).then(() => this.flush(waiter));
    });
  }

  private async flush(trigger: Waiter): Promise<void> {
    // Already answered by an earlier round that took it along.
    if (!this.waiting.has(trigger)) return;
    const horizon = Math.max(Date.now(), trigger.dueAt) + this.deps.mergeWindowMs;
    const group = [...this.waiting].filter((w) => w === trigger || w.dueAt <= horizon);
    for (const w of group) this.waiting.delete(w);
    const owners = new Map<string, Waiter[]>();
    for (const w of group) for (const token of w.tokens) owners.set(token, [...(owners.get(token) ?? []), w]);
    const tokens = [...owners.keys()];
    const fullGetSize = Math.min(...group.map((w) => w.fullGetSize));
    const answers: PollAnswers = new Map();
    const failed = new Map<Waiter, unknown>();
    const size = Math.max(1, this.deps.batchSize());
    for (let i = 0; i < tokens.length; i += size) {
      const chunk = tokens.slice(i, i + size);
      try {
        for (const [token, s] of await this.deps.fetch(chunk, fullGetSize)) answers.set(token, s);
      } catch (error) {
        for (const token of chunk) for (const w of owners.get(token)!) if (!failed.has(w)) failed.set(w, error);
      }
    }
    for (const w of group) {
      if (failed.has(w)) {
        w.reject(failed.get(w));
        continue;
      }
      const own: PollAnswers = new Map();
      for (const token of w.tokens) if (answers.has(token)) own.set(token, answers.get(token)!);
      w.resolve(own);
    }
  }
}

/** Judge0's time per case, per Judge0 language id (an exponentially weighted mean). */
export class RunTimeEstimates {
  private readonly perCaseMs = new Map<number, number>();

  constructor(private readonly weight = 0.3) {}

  /** Expected ms until `cases` new submissions of the language are final; undefined before the first observation. */
  expectedMs(languageId: number, cases: number): number | undefined {
    const perCase = this.perCaseMs.get(languageId);
    return perCase === undefined ? undefined : perCase * cases;
  }

  /** One finished job: `ms` from its first submission being created to its last one finishing. */
  observe(languageId: number, cases: number, ms: number): void {
    if (!(cases > 0) || !(ms >= 0) || !Number.isFinite(ms)) return;
    const sample = ms / cases;
    const before = this.perCaseMs.get(languageId);
    this.perCaseMs.set(languageId, before === undefined ? sample : before + this.weight * (sample - before));
  }
}

/** Judge0's own span of a set of submissions (created_at to finished_at), ms; undefined when it did not say. */
export function serverSpanMs(submissions: Array<{ created_at?: string | null; finished_at?: string | null }>): number | undefined {
  let first = Infinity;
  let last = -Infinity;
  for (const s of submissions) {
    const created = s.created_at ? Date.parse(s.created_at) : NaN;
    const finished = s.finished_at ? Date.parse(s.finished_at) : NaN;
    if (Number.isNaN(created) || Number.isNaN(finished)) return undefined;
    first = Math.min(first, created);
    last = Math.max(last, finished);
  }
  return last >= first ? last - first : undefined;
}

/**
 * Poll delays of one job: the first a little before its cases are expected final (the configured
 * initial delay while nothing has been learnt), then steps of a tenth of the expectation growing
 * x1.5 up to `maxMs`: a job that is late is seen within about 10% of its run time.
 */
export function pollDelays(expectedMs: number | undefined, initialMs: number, maxMs: number): () => number {
  const floor = 10;
  let next = expectedMs === undefined ? initialMs : Math.max(floor, Math.min(expectedMs * 0.85, maxMs));
  let step = expectedMs === undefined ? initialMs * 1.5 : Math.max(floor * 2, Math.min(expectedMs * 0.1, maxMs));
  return () => {
    const delay = next;
    next = step;
    step = Math.min(step * 1.5, maxMs);
    return delay;
  };
}
