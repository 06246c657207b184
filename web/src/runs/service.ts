/**
 * Runs with custom input, gateway side: POST /api/runs starts one, GET /api/runs/:id reads it.
 *
 * A run is sent to the workers as a `"mode": "run"` message on grading-requests (contracts/run.ts):
 * non-persistent and with an expiry (RUN_QUEUE_TTL_MS), since nobody waits for a run for long. Its
 * result arrives as a `run` event on the progress topic, which every gateway instance follows; each
 * stores it in `code_runs` once (store.ts), so whichever instance is asked can answer, and wakes its
 * own waiting readers (GET ?wait=). A run nobody answered in time reads as `expired`.
 *
 * Budgets of their own, apart from submissions': per address and per account (token buckets, per
 * instance, like submissions) and runs per account per UTC day (counted in the database, so shared by
 * every instance; concurrent starts may pass it by a few).
 */
import { randomUUID } from 'node:crypto';
import { RUN_LIMITS, RunRequest, RunResult, validateProgressEvent, validateRunRequest } from '../../../core/src/contracts';
import { HttpError } from '../http';
import { TokenBucketLimiter } from '../rateLimit';
import type { ProblemSource } from '../ports';
import { FieldError, validateSubmissionBody } from '../validation';
import type { RunStore } from './store';

export const RUN_ID = /^run_[A-Za-z0-9_-]{1,60}$/;

export interface RunSettings {
  /** Per account: burst and refill (per gateway instance). */
  userRateLimit: { capacity: number; refillPerSecond: number };
  /** Per client address (per gateway instance). */
  addressRateLimit: { capacity: number; refillPerSecond: number };
  /** Runs an account may start per UTC day (all instances). */
  dailyRunsPerUser: number;
  /** How long a run may wait in the queue for a worker, ms (the message's expiry). */
  queueTtlMs: number;
  /** After this long without a result, ms, a run reads as expired (queue time plus the longest run). */
  expireAfterMs: number;
  /** Longest GET ?wait=, seconds (below the load balancer's 60 s idle timeout). */
  maxWaitSeconds: number;
}

export const DEFAULT_RUN_SETTINGS: RunSettings = {
  userRateLimit: { capacity: 10, refillPerSecond: 1 / 6 },
  addressRateLimit: { capacity: 30, refillPerSecond: 1 / 2 },
  dailyRunsPerUser: 300,
  queueTtlMs: 120_000,
  expireAfterMs: 300_000,
  maxWaitSeconds: 25,
};

/**
 * RUN_DAILY_BUDGET, RUN_USER_BURST, RUN_USER_PER_MINUTE, RUN_ADDRESS_BURST, RUN_ADDRESS_PER_MINUTE,
 * RUN_QUEUE_TTL_MS; each bad one is added to `errors` (the gateway's config reports them all at once).
 */
export function runSettingsFromEnv(env: Record<string, string | undefined>, errors: string[]): RunSettings {
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) errors.push(`${name} must be an integer ${min}..${max} (got "${raw}")`);
    return value;
  };
  const d = DEFAULT_RUN_SETTINGS;
  const daily = int('RUN_DAILY_BUDGET', d.dailyRunsPerUser, 0, 1_000_000);
  const userBurst = int('RUN_USER_BURST', d.userRateLimit.capacity, 1, 10_000);
  const userPerMinute = int('RUN_USER_PER_MINUTE', d.userRateLimit.refillPerSecond * 60, 1, 100_000);
  const addressBurst = int('RUN_ADDRESS_BURST', d.addressRateLimit.capacity, 1, 100_000);
  const addressPerMinute = int('RUN_ADDRESS_PER_MINUTE', d.addressRateLimit.refillPerSecond * 60, 1, 1_000_000);
  const queueTtlMs = int('RUN_QUEUE_TTL_MS', d.queueTtlMs, 5_000, 3_600_000);
  return {
    ...d,
    dailyRunsPerUser: daily,
    userRateLimit: { capacity: userBurst, refillPerSecond: userPerMinute / 60 },
    addressRateLimit: { capacity: addressBurst, refillPerSecond: addressPerMinute / 60 },
    queueTtlMs,
    // The longest run: compile plus a 60 s time limit, with room to spare.
    expireAfterMs: queueTtlMs + 180_000,
  };
}

/** What GET /api/runs/:id answers. */
export interface RunView {
  runId: string;
  /** pending: not run yet (or running); finished: `result` holds what the program did; expired: no worker answered in time. */
  state: 'pending' | 'finished' | 'expired';
  problemId: string;
  language: string;
  createdAt: string;
  result?: RunResult;
  message?: string;
}

export interface RunServiceDeps {
  store: RunStore;
  broker: {
    send(destination: string, body: string, headers: Record<string, string>): Promise<void>;
    subscribe(destination: string, onMessage: (body: string, headers: Record<string, string>) => void): { unsubscribe(): void };
  };
  problems: ProblemSource;
  bucket: string;
  destinations: { requests: string; progress: string };
  maxSourceBytes: number;
  settings?: RunSettings;
  log?: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
  now?: () => Date;
}

export class RunService {
  readonly settings: RunSettings;
  private readonly userLimiter: TokenBucketLimiter;
  private readonly addressLimiter: TokenBucketLimiter;
  private readonly waiting = new Map<string, Set<() => void>>();
  private subscription?: { unsubscribe(): void };
  private readonly log: NonNullable<RunServiceDeps['log']>;
  private readonly now: () => Date;

  constructor(private readonly deps: RunServiceDeps) {
    this.settings = deps.settings ?? DEFAULT_RUN_SETTINGS;
    this.userLimiter = new TokenBucketLimiter(this.settings.userRateLimit);
    this.addressLimiter = new TokenBucketLimiter(this.settings.addressRateLimit);
    this.log = deps.log ?? (() => undefined);
    this.now = deps.now ?? (() => new Date());
  }

  /** Follows the progress topic for `run` events (every instance does, so any can answer GET). */
  follow(): void {
    this.subscription ??= this.deps.broker.subscribe(this.deps.destinations.progress, (body) => void this.observe(body));
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  /** A progress topic message: a `run` event is stored and wakes its waiting readers; anything else is not ours. */
  async observe(body: string): Promise<void> {
    if (!body.includes('"run"')) return;
    let data: unknown;
    try {
      data = JSON.parse(body);
    } catch {
      return;
    }
    const checked = validateProgressEvent(data);
    if (!checked.ok || checked.value.type !== 'run') return;
    const result = checked.value.result;
    try {
      await this.deps.store.saveResult(result);
    } catch (error) {
      this.log('warn', 'run result not stored', { runId: result.runId, error: (error as Error).message });
    }
    for (const wake of this.waiting.get(result.runId) ?? []) wake();
  }

  /** POST /api/runs: validates, spends the budgets, records the run and queues it. */
  async start(userId: string, body: unknown, clientAddress: string): Promise<RunView> {
    const input = this.validate(body);
    const byAddress = this.addressLimiter.take(clientAddress);
    if (!byAddress.allowed)
      throw tooManyRuns(`too many runs from this address; retry in ${byAddress.retryAfterSeconds} s`, byAddress.retryAfterSeconds);
    const byUser = this.userLimiter.take(userId);
    if (!byUser.allowed)
      throw tooManyRuns(`too many runs from your account; retry in ${byUser.retryAfterSeconds} s`, byUser.retryAfterSeconds);
    const now = this.now();
    const dayStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
    if ((await this.deps.store.countSince(userId, dayStart)) >= this.settings.dailyRunsPerUser) {
      const seconds = Math.max(1, Math.ceil((dayStart.getTime() + 86_400_000 - now.getTime()) / 1000));
      throw tooManyRuns(`your daily budget of ${this.settings.dailyRunsPerUser} runs is used up; it resets at 00:00 UTC`, seconds);
    }
    const problem = await this.deps.problems.get(input.problemId);
    if (!problem || problem.testCaseCount === 0) {
      const error = { field: 'problemId', message: `"${input.problemId}" is not a known problem` };
      throw new HttpError(400, 'invalid_run', `the run is invalid: problemId ${error.message}`, [error]);
    }
    const runId = `run_${randomUUID().replace(/-/g, '')}`;
    const createdAt = now.toISOString();
    const request: RunRequest = {
      mode: 'run',
      runId,
      userId,
      problemId: input.problemId,
      language: input.language,
      source: input.sourceCode,
      stdin: input.stdin,
      testCases: `s3://${this.deps.bucket}/problems/${input.problemId}/testcases/`,
      timeLimit: problem.timeLimit,
      memoryLimit: problem.memoryLimit,
      timestamp: createdAt,
    };
    const checked = validateRunRequest(request);
    if (!checked.ok) throw new Error(`the run request does not match the contract: ${checked.errors.join('; ')}`);
    // Recorded before it is queued, so its owner is known by the time its result arrives.
    await this.deps.store.record({ runId, userId, problemId: input.problemId, language: input.language, createdAt });
    try {
      await this.deps.broker.send(this.deps.destinations.requests, JSON.stringify(request), {
        // Non-persistent with an expiry: a run nobody took in time is dropped, never dead-lettered.
        persistent: 'false',
        expires: String(now.getTime() + this.settings.queueTtlMs),
        'content-type': 'application/json',
        'correlation-id': runId,
      });
    } catch (error) {
      await this.deps.store.forget(runId).catch(() => undefined);
      throw error;
    }
    this.log('info', 'run queued', { runId, userId, problemId: input.problemId, language: input.language });
    return { runId, state: 'pending', problemId: input.problemId, language: input.language, createdAt };
  }

  /** GET /api/runs/:id: the owner's run (404 to anyone else), waiting up to `waitSeconds` for its result. */
  async view(runId: string, userId: string, waitSeconds = 0): Promise<RunView> {
    if (!RUN_ID.test(runId)) throw new HttpError(400, 'invalid_run_id', `"${runId.slice(0, 80)}" is not a run id (run_...)`);
    const deadline = Date.now() + Math.min(waitSeconds, this.settings.maxWaitSeconds) * 1000;
    for (;;) {
      const record = await this.deps.store.get(runId);
      if (!record || record.userId !== userId) throw new HttpError(404, 'not_found', `no run ${runId}`);
      const base = { runId, problemId: record.problemId, language: record.language, createdAt: record.createdAt };
      if (record.result) return { ...base, state: 'finished', result: record.result };
      if (this.now().getTime() - Date.parse(record.createdAt) > this.settings.expireAfterMs) {
        return { ...base, state: 'expired', message: 'no worker ran it in time; run it again' };
      }
      const left = deadline - Date.now();
      if (left <= 0) return { ...base, state: 'pending' };
      // Woken by this instance's topic subscription (every instance hears every run event); re-read every
      // 5 s anyway, in case this instance missed the event while reconnecting to the broker.
      await this.until(runId, Math.min(left, 5000));
    }
  }

  private until(runId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiting.get(runId);
      if (!set) this.waiting.set(runId, (set = new Set()));
      const done = () => {
        clearTimeout(timer);
        set!.delete(done);
        if (set!.size === 0 && this.waiting.get(runId) === set) this.waiting.delete(runId);
        resolve();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
    });
  }

  private validate(body: unknown): { problemId: string; language: RunRequest['language']; sourceCode: string; stdin: string } {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new HttpError(400, 'invalid_run', 'the run is invalid: the body must be a JSON object', [
        { field: '(body)', message: 'must be a JSON object' },
      ]);
    }
    const { stdin = '', priority, ...rest } = body as Record<string, unknown>;
    const errors: FieldError[] = [];
    const checked = validateSubmissionBody(rest, { maxSourceBytes: Math.min(this.deps.maxSourceBytes, RUN_LIMITS.sourceChars) });
    if (!checked.ok) errors.push(...checked.errors);
    if (priority !== undefined) errors.push({ field: 'priority', message: 'is not a field of a run (runs have no queue priority)' });
    if (typeof stdin !== 'string') errors.push({ field: 'stdin', message: 'must be a string' });
    else if (stdin.length > RUN_LIMITS.stdinChars)
      errors.push({ field: 'stdin', message: `must be at most ${RUN_LIMITS.stdinChars} characters (got ${stdin.length})` });
    if (!checked.ok || errors.length) {
      throw new HttpError(400, 'invalid_run', 'the run is invalid: ' + errors.map((e) => `${e.field} ${e.message}`).join('; '), errors);
    }
    return {
      problemId: checked.value.problemId,
      language: checked.value.language,
      sourceCode: checked.value.sourceCode,
      stdin: stdin as string,
    };
  }
}

function tooManyRuns(message: string, retryAfterSeconds: number): HttpError {
  return new HttpError(429, 'rate_limited', message, undefined, { 'retry-after': String(retryAfterSeconds) });
}
