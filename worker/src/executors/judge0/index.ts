/**
 * Judge0 CE adapter (production executor). Per submission: ceil(N / batch) POSTs of all cases at
 * once (base64, no wait=true), then batched GET polls with back-off until every case is final.
 * Each HTTP call has a timeout and retries on 5xx/network errors; 503 "queue is full" backs off; a
 * circuit breaker turns a dead Judge0 into an immediate ExecutorUnavailableError, so the worker
 * holds the request instead of burning it. Judge0 compiles once per case (its design), so C/C++
 * get -O2 through compiler_options when the server allows it.
 */
import type { Language } from '../../languages';
import { CaseRun, ExecutionJob, ExecutionReport, Executor, ExecutorUnavailableError, RunOutcome } from '../port';
import { CircuitBreaker } from './circuitBreaker';
import { isFinal, isRetryableInternal, Judge0Submission, JUDGE0_STATUS, toRunOutcome } from './statuses';

export interface Judge0Options {
  baseUrl: string;
  authToken?: string;
  /** Per HTTP request, ms. Default 10000. */
  requestTimeoutMs?: number;
  /** Tries per HTTP request on network errors / 5xx. Default 4. */
  requestAttempts?: number;
  /** First poll delay (growing x1.5) and cap, ms. Defaults 100 / 2000: most runs finish within a few hundred ms. */
  pollInitialMs?: number;
  pollMaxMs?: number;
  /** A job not finished by then is abandoned as "Judge0 unavailable" (stuck In Queue). Default 120000. */
  jobDeadlineMs?: number;
  /** Resubmissions of a case that ended in Internal Error / Exec Format Error. Default 1. */
  internalErrorRetries?: number;
  breakerFailureThreshold?: number;
  breakerCoolDownMs?: number;
  /** Counts HTTP requests (benchmarks, tests). */
  onRequest?: (method: string, path: string) => void;
  sleep?: (ms: number) => Promise<void>;
}

interface ConfigInfo {
  max_submission_batch_size?: number;
  enable_batched_submissions?: boolean;
  enable_compiler_options?: boolean;
  max_cpu_time_limit?: number;
  max_wall_time_limit?: number;
  max_memory_limit?: number;
}

const LANGUAGE_NAMES: Record<Language, RegExp> = {
  python: /^Python \(3\./,
  javascript: /^JavaScript \(Node\.js/,
  c: /^C \(GCC/,
  cpp: /^C\+\+ \(GCC/,
  java: /^Java \((OpenJDK|JDK)/,
};

const FIELDS = 'token,status,stdout,stderr,compile_output,message,time,memory,exit_code,exit_signal';
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | null) => (s ? Buffer.from(s, 'base64').toString('utf8') : '');

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`Judge0 answered ${status}: ${body.slice(0, 200)}`);
  }
}

export async function createJudge0Executor(options: Judge0Options): Promise<Executor> {
  const executor = new Judge0Executor(options);
  await executor.init();
  return executor;
}

export class Judge0Executor implements Executor {
  readonly name = 'judge0';
  private readonly breaker: CircuitBreaker;
  private config: ConfigInfo = {};
  private languageIds = new Map<Language, number>();
  private readonly baseUrl: string;

  constructor(private readonly opts: Judge0Options) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.breaker = new CircuitBreaker(opts.breakerFailureThreshold ?? 5, opts.breakerCoolDownMs ?? 30_000);
  }

  /** Reads /config_info and resolves our languages from /languages (cached for the process). */
  async init(): Promise<void> {
    this.config = await this.request<ConfigInfo>('GET', '/config_info');
    const languages = await this.request<Array<{ id: number; name: string }>>('GET', '/languages');
    for (const [language, pattern] of Object.entries(LANGUAGE_NAMES) as Array<[Language, RegExp]>) {
      const candidates = languages.filter((l) => pattern.test(l.name)).sort((a, b) => compareVersions(versionOf(b.name), versionOf(a.name)));
      if (candidates[0]) this.languageIds.set(language, candidates[0].id);
    }
  }

  get batchSize(): number {
    return this.config.enable_batched_submissions === false ? 1 : Math.max(1, this.config.max_submission_batch_size ?? 20);
  }

  async execute(job: ExecutionJob, onCase?: (run: CaseRun) => void): Promise<ExecutionReport> {
    const languageId = this.languageIds.get(job.language);
    if (languageId === undefined) throw new Error(`Judge0 at ${this.baseUrl} offers no ${job.language} compiler (GET /languages has none matching ${LANGUAGE_NAMES[job.language]})`);
    const deadline = Date.now() + (this.opts.jobDeadlineMs ?? 120_000);
    const limits = this.clampLimits(job);
    const payload = (input: string) => ({
      source_code: b64(job.source),
      language_id: languageId,
      stdin: b64(input),
      cpu_time_limit: limits.cpuSeconds,
      wall_time_limit: limits.wallSeconds,
      memory_limit: limits.memoryKb,
      ...((job.language === 'c' || job.language === 'cpp') && this.config.enable_compiler_options ? { compiler_options: '-O2' } : {}),
    });

    const runs = new Map<number, RunOutcome>();
    let pending = job.cases.map((c) => ({ index: c.index, input: c.input, internalRetries: 0 }));
    while (pending.length) {
      const tokens = await this.submitAll(pending.map((c) => payload(c.input)), deadline);
      const byToken = new Map(tokens.map((token, i) => [token, pending[i]]));
      const finished = await this.pollUntilFinal([...byToken.keys()], deadline, (s) => {
        const testCase = byToken.get(s.token)!;
        if (s.status.id === JUDGE0_STATUS.COMPILATION_ERROR) return;
        if (isRetryableInternal(s.status.id) && testCase.internalRetries < (this.opts.internalErrorRetries ?? 1)) return;
        const outcome = toRunOutcome(s, { stdout: unb64(s.stdout), stderr: unb64(s.stderr), message: unb64(s.message) }, job.limits);
        runs.set(testCase.index, outcome);
        onCase?.({ index: testCase.index, outcome });
      });
      const compileError = finished.find((s) => s.status.id === JUDGE0_STATUS.COMPILATION_ERROR);
      if (compileError) return { compile: { ok: false, output: unb64(compileError.compile_output), timeMs: 0 }, runs: [] };
      // Internal errors get another try (Judge0's isolate boxes fail now and then under load).
      pending = finished
        .filter((s) => !runs.has(byToken.get(s.token)!.index))
        .map((s) => {
          const testCase = byToken.get(s.token)!;
          return { ...testCase, internalRetries: testCase.internalRetries + 1 };
        });
    }
    return { compile: { ok: true, output: '', timeMs: 0 }, runs: job.cases.map((c) => ({ index: c.index, outcome: runs.get(c.index)! })) };
  }

  async close(): Promise<void> {}

  private clampLimits(job: ExecutionJob) {
    const cpu = job.limits.timeLimitMs / 1000;
    const wall = (job.limits.wallLimitMs ?? job.limits.timeLimitMs * 2 + 1000) / 1000;
    return {
      cpuSeconds: Math.min(cpu, this.config.max_cpu_time_limit ?? 15),
      wallSeconds: Math.max(1, Math.min(wall, this.config.max_wall_time_limit ?? 20)),
      memoryKb: Math.max(2048, Math.min(job.limits.memoryLimitMb * 1024, this.config.max_memory_limit ?? 512_000)),
    };
  }

  /** POSTs in chunks of the server's batch size; 503 (queue full) waits and resends that chunk. */
  private async submitAll(submissions: object[], deadline: number): Promise<string[]> {
    const tokens: string[] = [];
    for (let i = 0; i < submissions.length; i += this.batchSize) {
      const chunk = submissions.slice(i, i + this.batchSize);
      for (let wait = 500; ; wait = Math.min(wait * 2, 8000)) {
        try {
          const answer = await this.request<Array<{ token?: string; error?: unknown }>>('POST', '/submissions/batch?base64_encoded=true', { submissions: chunk });
          const bad = answer.map((a, j) => (a.token ? undefined : `case ${i + j + 1}: ${JSON.stringify(a)}`)).filter(Boolean);
          if (bad.length) throw new Error(`Judge0 rejected submissions: ${bad.join('; ')}`);
          tokens.push(...answer.map((a) => a.token!));
          break;
        } catch (error) {
          if (!(error instanceof ExecutorUnavailableError && /queue is full/.test(error.message)) || Date.now() + wait > deadline) throw error;
          await this.sleep(wait);
        }
      }
    }
    return tokens;
  }

  private async pollUntilFinal(tokens: string[], deadline: number, onFinal: (s: Judge0Submission) => void): Promise<Judge0Submission[]> {
    const done = new Map<string, Judge0Submission>();
    let delay = this.opts.pollInitialMs ?? 100;
    while (done.size < tokens.length) {
      if (Date.now() > deadline) throw new ExecutorUnavailableError(`Judge0 did not finish ${tokens.length - done.size} submission(s) in time (stuck In Queue?)`);
      await this.sleep(delay);
      delay = Math.min(delay * 1.5, this.opts.pollMaxMs ?? 2000);
      const waiting = tokens.filter((t) => !done.has(t));
      for (let i = 0; i < waiting.length; i += this.batchSize) {
        const chunk = waiting.slice(i, i + this.batchSize);
        const answer = await this.request<{ submissions: Judge0Submission[] }>('GET', `/submissions/batch?tokens=${chunk.join(',')}&base64_encoded=true&fields=${FIELDS}`);
        for (const s of answer.submissions) {
          if (s && isFinal(s.status.id) && !done.has(s.token)) {
            done.set(s.token, s);
            onFinal(s);
          }
        }
      }
    }
    return tokens.map((t) => done.get(t)!);
  }

  /** One HTTP call: timeout, retries with back-off, breaker bookkeeping, clear errors. */
  private async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const attempts = this.opts.requestAttempts ?? 4;
    let lastError: Error = new Error('no attempt made');
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const waitMs = this.breaker.acquire();
      if (waitMs > 0) throw new ExecutorUnavailableError(`Judge0 circuit open after repeated failures; retry in ${Math.ceil(waitMs / 1000)} s`, waitMs);
      this.opts.onRequest?.(method, path.split('?')[0]);
      try {
        const response = await fetch(`${this.baseUrl}${path}`, {
          method,
          headers: { 'content-type': 'application/json', ...(this.opts.authToken ? { 'X-Auth-Token': this.opts.authToken } : {}) },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.opts.requestTimeoutMs ?? 10_000),
        });
        const text = await response.text();
        if (response.ok) {
          this.breaker.success();
          return JSON.parse(text) as T;
        }
        throw new HttpError(response.status, text);
      } catch (error) {
        if (error instanceof HttpError && (error.status === 401 || error.status === 403)) {
          this.breaker.failure();
          throw new ExecutorUnavailableError(`Judge0 rejected the auth token (HTTP ${error.status}); check /<env>/judge0/auth-token`);
        }
        if (error instanceof HttpError && error.status === 503) {
          // Busy, not broken: not a breaker failure.
          this.breaker.success();
          throw new ExecutorUnavailableError(`Judge0 queue is full (${error.body.slice(0, 100)})`, 1000);
        }
        if (error instanceof HttpError && error.status < 500) {
          this.breaker.success();
          throw new Error(`Judge0 refused ${method} ${path.split('?')[0]}: ${error.message}`);
        }
        this.breaker.failure();
        lastError = error as Error;
        if (attempt < attempts) await this.sleep(Math.min(4000, 200 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2));
      }
    }
    throw new ExecutorUnavailableError(`Judge0 unreachable after ${attempts} tries: ${lastError.message}`);
  }

  private sleep(ms: number): Promise<void> {
    return this.opts.sleep ? this.opts.sleep(ms) : new Promise((r) => setTimeout(r, ms));
  }
}

function versionOf(name: string): number[] {
  return (/\(([^)]*)\)/.exec(name)?.[1].match(/\d+/g) ?? []).map(Number);
}

function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}
