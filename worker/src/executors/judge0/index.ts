/**
 * Judge0 CE adapter (production executor), written against Judge0 1.13.x. Per job: the cases go out
 * in batches of the server's batch size (or one by one when batching is off), then batched GET polls
 * with back-off until every case is final; each final case is turned into run facts at once, so only
 * bounded output is kept. See docs/judge0-adapter.md for every behaviour and the Judge0 source it
 * follows.
 *
 * Failure policy:
 * - Judge0 down / circuit open / queue full past the deadline / maintenance: ExecutorUnavailableError,
 *   the worker holds the request. Tokens already created are remembered per job, so a retry polls
 *   them instead of submitting the cases again.
 * - A job still unfinished after `jobDeadlineMs` is held once more (same tokens); after
 *   `deadlineAttempts` such expiries its unfinished cases are internal errors (a verdict), never an
 *   endless retry.
 * - Items Judge0 rejects (422) do not orphan the valid ones: a refused compiler_options is retried
 *   without options (and noted in the compile output), anything else is that case's internal error.
 */
import { createHash } from 'node:crypto';
import type { Language, OfferedLanguage } from '../../../../core/src/languages';
import type { CaseRun, ExecutionJob, ExecutionReport, Executor, RunOutcome } from '../port';
import { ExecutorUnavailableError } from '../port';
import { CircuitBreaker } from './circuitBreaker';
import { Judge0LanguageRow, LANGUAGE_PATTERNS, MULTI_FILE_NAME, ResolvedLanguage, resolveLanguages } from './catalog';
import { Judge0BadRequestError, Judge0HttpError, Judge0QueueFullError } from './errors';
import { Judge0Http } from './http';
import {
  ClampedLimits,
  clampLimits,
  COMPILER_OPTIONS,
  compilerOptionsAllowed,
  ConfigInfo,
  CONFIG_DEFAULTS,
  submissionPayload,
} from './submissions';
import { BatchPoller, pollDelays, RunTimeEstimates, serverSpanMs } from './poller';
import { FIELDS, isFinal, isRetryableInternal, Judge0Submission, JUDGE0_STATUS, ReadContext, toRunOutcome } from './statuses';
import type { CheckerProgram } from '../../problems/testSet';
import type { PrepareResult } from '../../grading/programChecker';
import { checkerLimits, prepareJudge0Checker } from './checker';
import { executeInteractive, interactionBoxLimits } from './interactive';
import { ProgramBuilder } from './programs';
import { ProjectRunner } from './projects';

export { Judge0AuthError, Judge0BadRequestError, Judge0MaintenanceError, Judge0QueueFullError } from './errors';
export type { ResolvedLanguage } from './catalog';

export interface Judge0Options {
  baseUrl: string;
  authToken?: string;
  /** Per HTTP request, ms. Default 10000. */
  requestTimeoutMs?: number;
  /** Tries per HTTP request on network errors / 5xx. Default 4. */
  requestAttempts?: number;
  /**
   * First poll delay until run times are known (then the first poll comes when a job's cases are
   * expected final), and the cap of the growing delays after it, ms. Defaults 100 / 2000.
   */
  pollInitialMs?: number;
  pollMaxMs?: number;
  /** Jobs whose polls are due within this many ms share one poll round (GET /submissions/batch). Default 50. */
  pollMergeWindowMs?: number;
  /** How long one attempt at a job may take, ms. Default 120000. */
  jobDeadlineMs?: number;
  /** Expired attempts (same Judge0 tokens) before unfinished cases become internal errors. Default 2. */
  deadlineAttempts?: number;
  /** Resubmissions of a case that ended in Internal Error / Exec Format Error. Default 1. */
  internalErrorRetries?: number;
  /** Back-off the worker is asked for after a 503 that is not "queue is full" (maintenance). Default 30000. */
  maintenanceRetryMs?: number;
  /** Run Java/JavaScript as multi-file programs with memory flags when the server allows it. Default true. */
  multiFile?: boolean;
  breakerFailureThreshold?: number;
  breakerCoolDownMs?: number;
  /** Counts HTTP requests (benchmarks, tests). */
  onRequest?: (method: string, path: string) => void;
  /** Notes about how the server is used (refused options, fallbacks). */
  onNotice?: (message: string) => void;
  sleep?: (ms: number) => Promise<void>;
}

interface PendingCase {
  index: number;
  input: string;
  internalRetries: number;
  withOptions: boolean;
}

/** What survives between attempts at one job: the tokens Judge0 is (still) working on. */
interface JobState {
  tokens: Map<string, PendingCase>;
  /** Cases already final: a retry after an expired deadline does not submit them again. */
  done: Map<number, RunOutcome>;
  expiries: number;
  compileOutput?: string;
  notes: string[];
}

/** Jobs whose tokens are kept for a retry (only held jobs stay: finished ones are forgotten at once). */
const MAX_REMEMBERED_JOBS = 100;
const STDERR_KEEP = 8192;
/** Largest poll answer the adapter asks for at once (outputs are fetched fewer at a time when large). */
const RESPONSE_BUDGET_BYTES = 32 * 1024 * 1024;
/** Also Judge0's timestamps (submission_serializer.rb), which time a job without our polls' lateness. */
const POLL_FIELDS = `${FIELDS},created_at,finished_at`;

export async function createJudge0Executor(options: Judge0Options): Promise<Judge0Executor> {
  const executor = new Judge0Executor(options);
  await executor.init();
  return executor;
}

export class Judge0Executor implements Executor {
  readonly name = 'judge0';
  private readonly http: Judge0Http;
  private config: ConfigInfo = {};
  private languagesById = new Map<Language, ResolvedLanguage>();
  private batching = true;
  /** Judge0 languages whose compiler_options this server refused (422): sent without from then on. */
  private readonly optionsRefused = new Set<number>();
  private readonly jobs = new Map<string, JobState>();
  /** Language 89, when this server runs multi-file programs (checkers and interactive problems need it). */
  private projectId?: number;
  private readonly rows = new Map<number, Promise<Judge0LanguageRow | undefined>>();
  private readonly projects: ProjectRunner;
  private readonly programs: ProgramBuilder;
  private readonly poller: BatchPoller;
  private readonly runTimes = new RunTimeEstimates();

  constructor(private readonly opts: Judge0Options) {
    this.poller = new BatchPoller({
      fetch: (tokens, fullGetSize) => this.fetchFinals(tokens, fullGetSize),
      batchSize: () => this.batchSize,
      sleep: (ms) => this.sleep(ms),
      mergeWindowMs: opts.pollMergeWindowMs ?? 50,
    });
    this.http = new Judge0Http({
      baseUrl: opts.baseUrl,
      authToken: opts.authToken,
      requestTimeoutMs: opts.requestTimeoutMs ?? 10_000,
      requestAttempts: opts.requestAttempts ?? 4,
      maintenanceRetryMs: opts.maintenanceRetryMs ?? 30_000,
      breaker: new CircuitBreaker(opts.breakerFailureThreshold ?? 5, opts.breakerCoolDownMs ?? 30_000),
      onRequest: opts.onRequest,
      sleep: (ms) => this.sleep(ms),
    });
    this.projects = new ProjectRunner({
      http: this.http,
      projectId: () => this.projectId,
      sleep: (ms) => this.sleep(ms),
      pollInitialMs: opts.pollInitialMs ?? 100,
      pollMaxMs: opts.pollMaxMs ?? 2000,
      deadlineMs: opts.jobDeadlineMs ?? 120_000,
      internalErrorRetries: opts.internalErrorRetries ?? 1,
    });
    this.programs = new ProgramBuilder({
      runner: this.projects,
      languageRow: (language) => this.languageRow(language),
      maxFileSizeKb: () => Number(this.config.max_max_file_size ?? CONFIG_DEFAULTS.max_max_file_size),
    });
  }

  /** Reads /config_info and /languages (cached for the process); Java/JS details from /languages/:id. */
  async init(): Promise<void> {
    this.config = await this.http.get<ConfigInfo>('/config_info');
    this.batching = this.config.enable_batched_submissions !== false;
    const rows = await this.http.get<Judge0LanguageRow[]>('/languages');
    this.languagesById = resolveLanguages(rows);
    const project = rows.find((r) => r.name === MULTI_FILE_NAME);
    this.projectId = project && this.config.enable_additional_files !== false ? project.id : undefined;
    if (this.opts.multiFile === false) return;
    if (!project || this.config.enable_additional_files === false) {
      this.notice(
        'Java/JavaScript run without runtime memory flags: this Judge0 has no multi-file programs (language 89 or ENABLE_ADDITIONAL_FILES)',
      );
      return;
    }
    for (const language of ['java', 'javascript'] as const) {
      const resolved = this.languagesById.get(language);
      if (!resolved) continue;
      const row = await this.http.get<Judge0LanguageRow>(`/languages/${resolved.id}`).catch(() => undefined);
      if (!row?.run_cmd || !row.source_file) {
        this.notice(
          `${language} runs as Judge0 language ${resolved.id} without memory flags: GET /languages/${resolved.id} has no run_cmd`,
        );
        continue;
      }
      resolved.multiFile = { projectId: project.id, sourceFile: row.source_file, compileCmd: row.compile_cmd ?? null, runCmd: row.run_cmd };
    }
    await this.probeMultiFile();
  }

  /** One tiny multi-file run at start: a server that lists language 89 but cannot run it falls back to 62/63. */
  private async probeMultiFile(): Promise<void> {
    const probed = (['javascript', 'java'] as const).find((l) => this.languagesById.get(l)?.multiFile);
    if (!probed) return;
    const source =
      probed === 'javascript'
        ? 'console.log("multi-file ok")'
        : 'public class Main { public static void main(String[] a) { System.out.println("multi-file ok"); } }';
    let why: string;
    try {
      const limits = { timeLimitMs: 5000, memoryLimitMb: 128, outputLimitBytes: 1024 };
      const report = await this.execute({
        id: 'judge0-multi-file-probe',
        language: probed,
        source,
        cases: [{ index: 1, input: '' }],
        limits,
      });
      const outcome = report.runs[0]?.outcome;
      if (report.compile.ok && outcome?.stdout === 'multi-file ok\n') return;
      why = report.compile.ok
        ? `${outcome?.status}: ${outcome?.message ?? outcome?.stderr.slice(0, 200) ?? ''}`
        : `compile error: ${report.compile.output.slice(0, 200)}`;
    } catch (error) {
      why = (error as Error).message;
    }
    for (const language of ['java', 'javascript'] as const) delete this.languagesById.get(language)?.multiFile;
    this.notice(`Java/JavaScript run without runtime memory flags: a multi-file program (language 89) failed on this Judge0 (${why})`);
  }

  get batchSize(): number {
    return this.batching ? Math.max(1, this.config.max_submission_batch_size ?? CONFIG_DEFAULTS.max_submission_batch_size) : 1;
  }

  /** Our languages this server offers, named as Judge0's GET /languages names them. */
  languages(): OfferedLanguage[] {
    return [...this.languagesById.values()].map((l) => ({ id: l.language, name: l.name, version: l.version }));
  }

  resolved(language: Language): ResolvedLanguage | undefined {
    return this.languagesById.get(language);
  }

  /** Interactive problems run as multi-file programs (interactive.ts): only where Judge0 has them. */
  get interactive(): boolean {
    return this.projectId !== undefined;
  }

  /** Testlib checkers run on Judge0 as multi-file programs (checker.ts). */
  prepareChecker(program: CheckerProgram, version: string): Promise<PrepareResult> {
    const unsupported = () =>
      this.projectId === undefined
        ? `testlib checkers run on Judge0 as multi-file programs, which ${this.http.baseUrl} does not offer ` +
          '(language 89 or ENABLE_ADDITIONAL_FILES)'
        : undefined;
    const deps = {
      builder: this.programs,
      runner: this.projects,
      limits: () => checkerLimits(this.config),
      maxExtractKb: () => Number(this.config.max_extract_size ?? 10_240),
      unsupported,
    };
    return prepareJudge0Checker(deps, program, version);
  }

  /** GET /languages/:id for one of ours (commands, source_file), fetched once. */
  private languageRow(language: Language): Promise<Judge0LanguageRow | undefined> {
    const id = this.languagesById.get(language)?.id;
    if (id === undefined) return Promise.resolve(undefined);
    let row = this.rows.get(id);
    if (!row) {
      row = this.http.get<Judge0LanguageRow>(`/languages/${id}`);
      row.catch(() => this.rows.delete(id));
      this.rows.set(id, row);
    }
    return row;
  }

  async execute(job: ExecutionJob, onCase?: (run: CaseRun) => void): Promise<ExecutionReport> {
    const resolved = this.languagesById.get(job.language);
    if (!resolved)
      throw new Error(
        `Judge0 at ${this.http.baseUrl} offers no ${job.language} compiler (GET /languages has none matching ${LANGUAGE_PATTERNS[job.language]})`,
      );
    if (job.interactor) {
      const deps = { builder: this.programs, runner: this.projects, languageRow: (l: Language) => this.languageRow(l) };
      return executeInteractive({ ...deps, boxLimits: (j) => interactionBoxLimits(j, this.config) }, job, onCase);
    }
    const deadline = Date.now() + (this.opts.jobDeadlineMs ?? 120_000);
    const limits = clampLimits(job.limits, job.language, this.config);
    const ctx: ReadContext = {
      memoryLimitMb: job.limits.memoryLimitMb,
      sentMemoryKb: limits.memory_limit,
      outputLimitBytes: job.limits.outputLimitBytes,
      sentMaxFileSizeKb: limits.max_file_size,
    };
    const key = jobKey(job);
    const state: JobState = this.jobs.get(key) ?? { tokens: new Map(), done: new Map(), expiries: 0, notes: [] };
    this.remember(key, state);

    const runs = state.done;
    const notes = state.notes;
    const settle = (index: number, outcome: RunOutcome) => {
      runs.set(index, outcome);
      onCase?.({ index, outcome });
    };
    for (const [index, outcome] of runs) onCase?.({ index, outcome });
    if (COMPILER_OPTIONS[job.language] && !resolved.multiFile && !compilerOptionsAllowed(this.config, resolved.name) && !notes.length) {
      notes.push(`[judge0: this server does not allow compiler options for ${resolved.name}; compiled with Judge0's defaults]`);
    }
    const inFlight = new Set([...state.tokens.values()].map((c) => c.index));
    let toSubmit: PendingCase[] = job.cases
      .filter((c) => !inFlight.has(c.index) && !runs.has(c.index))
      .map((c) => ({
        index: c.index,
        input: c.input,
        internalRetries: 0,
        withOptions: compilerOptionsAllowed(this.config, resolved.name) && !this.optionsRefused.has(resolved.id),
      }));

    while (toSubmit.length || state.tokens.size) {
      if (toSubmit.length) {
        const rejected = await this.submit(toSubmit, resolved, job, limits, state, deadline);
        toSubmit = [];
        for (const { testCase, errors } of rejected) {
          if (testCase.withOptions && errors.compiler_options) {
            this.optionsRefused.add(resolved.id);
            if (!notes.some((n) => n.startsWith('[judge0: compiler options refused')))
              notes.push(`[judge0: compiler options refused (${errors.compiler_options.join('; ')}); compiled with Judge0's defaults]`);
            this.notice(`Judge0 refused compiler_options for ${resolved.name}: ${errors.compiler_options.join('; ')}`);
            toSubmit.push({ ...testCase, withOptions: false });
            continue;
          }
          const why = Object.entries(errors)
            .map(([field, messages]) => `${field}: ${messages.join(', ')}`)
            .join('; ');
          settle(testCase.index, internalError(`Judge0 rejected case ${testCase.index}: ${why}`));
        }
        if (toSubmit.length) continue;
      }
      if (!state.tokens.size) break;

      // Base64 inflates by 4/3; keep one poll answer under RESPONSE_BUDGET_BYTES.
      const perCase = Math.ceil((ctx.sentMaxFileSizeKb * 1024 * 4) / 3) + 16 * 1024;
      const fullGetSize = Math.max(1, Math.floor(RESPONSE_BUDGET_BYTES / perCase));
      const finished = await this.pollUntilFinal(state, deadline, fullGetSize, resolved.id, (token, s) => {
        const testCase = state.tokens.get(token)!;
        if (s.status.id === JUDGE0_STATUS.COMPILATION_ERROR) return 'compile-error';
        if (isRetryableInternal(s.status.id) && testCase.internalRetries < (this.opts.internalErrorRetries ?? 1)) {
          state.tokens.delete(token);
          toSubmit.push({ ...testCase, internalRetries: testCase.internalRetries + 1 });
          return 'retry';
        }
        if (state.compileOutput === undefined && s.compile_output) state.compileOutput = unb64(s.compile_output, 64 * 1024).text;
        settle(testCase.index, this.read(s, ctx));
        state.tokens.delete(token);
        return 'done';
      });
      if (finished.compileError) {
        this.jobs.delete(key);
        const output = [unb64(finished.compileError.compile_output, 64 * 1024).text, ...notes].filter(Boolean).join('\n');
        return { compile: { ok: false, output, timeMs: 0 }, runs: [] };
      }
      if (finished.expired) {
        state.expiries++;
        const left = state.tokens.size;
        if (state.expiries < (this.opts.deadlineAttempts ?? 2)) {
          throw new ExecutorUnavailableError(
            `Judge0 did not finish ${left} case(s) of ${job.id} in time (stuck In Queue?); the same submissions are polled on retry`,
            5000,
          );
        }
        for (const testCase of state.tokens.values()) {
          settle(
            testCase.index,
            internalError(
              `Judge0 did not finish case ${testCase.index} after ${state.expiries} attempt(s) of ${Math.round((this.opts.jobDeadlineMs ?? 120_000) / 1000)} s`,
            ),
          );
        }
        state.tokens.clear();
        toSubmit = [];
      }
    }
    this.jobs.delete(key);
    return {
      compile: { ok: true, output: [state.compileOutput ?? '', ...notes].filter(Boolean).join('\n'), timeMs: 0 },
      runs: job.cases.map((c) => ({
        index: c.index,
        outcome: runs.get(c.index) ?? internalError('Judge0 returned nothing for this case'),
      })),
    };
  }

  async close(): Promise<void> {}

  /** Creates submissions (batched, or one by one when batching is off); returns the items Judge0 rejected. */
  private async submit(
    cases: PendingCase[],
    resolved: ResolvedLanguage,
    job: ExecutionJob,
    limits: ClampedLimits,
    state: JobState,
    deadline: number,
  ) {
    const rejected: Array<{ testCase: PendingCase; errors: Record<string, string[]> }> = [];
    const payload = (c: PendingCase) =>
      submissionPayload({
        resolved,
        source: job.source,
        stdin: c.input,
        limits,
        memoryLimitMb: job.limits.memoryLimitMb,
        withCompilerOptions: c.withOptions,
      });
    let i = 0;
    while (i < cases.length) {
      const chunk = cases.slice(i, i + this.batchSize);
      let answers: Array<{ token?: string } & Record<string, unknown>>;
      try {
        answers = await this.withQueueBackOff(deadline, () => this.createChunk(chunk.map(payload)));
      } catch (error) {
        if (error instanceof Judge0BadRequestError && error.batchingDisabled && this.batching) {
          this.batching = false;
          this.notice('Judge0 answered that batched submissions are not allowed: submitting one by one');
          continue;
        }
        throw error;
      }
      chunk.forEach((testCase, j) => {
        const answer = answers[j] ?? {};
        if (typeof answer.token === 'string') state.tokens.set(answer.token, testCase);
        else rejected.push({ testCase, errors: validationErrors(answer) });
      });
      i += chunk.length;
    }
    return rejected;
  }

  private async createChunk(payloads: Array<Record<string, unknown>>): Promise<Array<{ token?: string } & Record<string, unknown>>> {
    if (this.batching) {
      const answer = await this.http.post<unknown>('/submissions/batch?base64_encoded=true', { submissions: payloads });
      if (!Array.isArray(answer.body))
        throw new ExecutorUnavailableError(`Judge0 answered POST /submissions/batch with ${JSON.stringify(answer.body).slice(0, 200)}`);
      return answer.body as Array<{ token?: string } & Record<string, unknown>>;
    }
    const answers = [];
    for (const p of payloads)
      answers.push((await this.http.post<{ token?: string } & Record<string, unknown>>('/submissions?base64_encoded=true', p)).body);
    return answers;
  }

  /** "queue is full" waits (doubling to 8 s) and tries again until the deadline; then the worker holds the job. */
  private async withQueueBackOff<T>(deadline: number, send: () => Promise<T>): Promise<T> {
    for (let wait = 500; ; wait = Math.min(wait * 2, 8000)) {
      try {
        return await send();
      } catch (error) {
        if (!(error instanceof Judge0QueueFullError) || Date.now() + wait > deadline) throw error;
        await this.sleep(wait);
      }
    }
  }

  /**
   * Polls the state's tokens until each is final or the deadline passes; `onFinal` decides what a
   * final one means. Polls go through the shared poller (one round for all jobs due about then); the
   * first comes when Judge0 is expected to be done with this many cases of the language.
   */
  private async pollUntilFinal(
    state: JobState,
    deadline: number,
    fullGetSize: number,
    languageId: number,
    onFinal: (token: string, s: Judge0Submission) => 'done' | 'retry' | 'compile-error',
  ): Promise<{ compileError?: Judge0Submission; expired?: boolean }> {
    const cases = state.tokens.size;
    const started = Date.now();
    const finals: Judge0Submission[] = [];
    const nextDelay = pollDelays(this.runTimes.expectedMs(languageId, cases), this.opts.pollInitialMs ?? 100, this.opts.pollMaxMs ?? 2000);
    while (state.tokens.size) {
      if (Date.now() > deadline) return { expired: true };
      const answers = await this.poller.poll([...state.tokens.keys()], nextDelay(), fullGetSize);
      let resubmit = false;
      for (const token of [...state.tokens.keys()]) {
        if (!answers.has(token)) continue;
        const s = answers.get(token)!;
        if (s === null) {
          // Judge0 no longer knows the token (database reset): the case is lost, not the program's fault.
          if (onFinal(token, lostSubmission(token, state.tokens.get(token)!.index)) === 'retry') resubmit = true;
          continue;
        }
        if (!isFinal(s.status.id)) continue;
        finals.push(s);
        const verdict = onFinal(token, s);
        if (verdict === 'compile-error') return { compileError: s };
        if (verdict === 'retry') resubmit = true;
      }
      if (resubmit) return {};
    }
    // Judge0's own timestamps when it sends them; else what was seen here, shaded down so that polls
    // which came late do not keep pushing the estimate up.
    const span = serverSpanMs(finals as Array<Judge0Submission & { created_at?: string; finished_at?: string }>);
    if (finals.length === cases) this.runTimes.observe(languageId, cases, span ?? (Date.now() - started) * 0.9);
    return {};
  }

  /**
   * The chunk's submissions that are final (or lost: null), with every field. When a full answer for
   * the whole chunk could be large (outputs up to max_file_size each), statuses are polled first and
   * the final ones fetched `fullGetSize` at a time, so one response stays within RESPONSE_BUDGET_BYTES.
   */
  private async fetchFinals(chunk: string[], fullGetSize: number): Promise<Array<[string, Judge0Submission | null]>> {
    if (fullGetSize >= chunk.length) return (await this.fetchChunk(chunk, POLL_FIELDS)).map((s, j) => [chunk[j], s]);
    const statuses = await this.fetchChunk(chunk, 'token,status');
    const finals = chunk.filter((_, j) => statuses[j] === null || isFinal(statuses[j]!.status.id));
    const out: Array<[string, Judge0Submission | null]> = [];
    for (let i = 0; i < finals.length; i += fullGetSize) {
      const group = finals.slice(i, i + fullGetSize);
      (await this.fetchChunk(group, POLL_FIELDS)).forEach((s, j) => out.push([group[j], s]));
    }
    return out;
  }

  private async fetchChunk(tokens: string[], fields: string): Promise<Array<Judge0Submission | null>> {
    const query = `base64_encoded=true&fields=${fields}`;
    if (this.batching) {
      try {
        const answer = await this.http.get<{ submissions: Array<Judge0Submission | null> }>(
          `/submissions/batch?tokens=${tokens.join(',')}&${query}`,
        );
        return tokens.map((_, i) => answer.submissions?.[i] ?? null);
      } catch (error) {
        if (!(error instanceof Judge0BadRequestError && error.batchingDisabled)) throw error;
        this.batching = false;
      }
    }
    const answers: Array<Judge0Submission | null> = [];
    for (const token of tokens) {
      try {
        answers.push(await this.http.get<Judge0Submission>(`/submissions/${encodeURIComponent(token)}?${query}`));
      } catch (error) {
        if (!(error instanceof Judge0HttpError && error.status === 404)) throw error;
        answers.push(null);
      }
    }
    return answers;
  }

  /** Decodes only what a verdict needs: stdout up to the output limit (+1 byte to see it was passed), stderr 8 KB. */
  private read(s: Judge0Submission, ctx: ReadContext): RunOutcome {
    const stdout = unb64(s.stdout, ctx.outputLimitBytes + 1);
    const stderr = unb64(s.stderr, STDERR_KEEP);
    const message = unb64(s.message, 1024);
    return toRunOutcome(s, { stdout: stdout.text, stdoutBytes: stdout.bytes, stderr: stderr.text, message: message.text }, ctx);
  }

  private remember(key: string, state: JobState): void {
    this.jobs.delete(key);
    this.jobs.set(key, state);
    while (this.jobs.size > MAX_REMEMBERED_JOBS) this.jobs.delete(this.jobs.keys().next().value!);
  }

  private notice(message: string): void {
    this.opts.onNotice?.(message);
  }

  private sleep(ms: number): Promise<void> {
    return this.opts.sleep ? this.opts.sleep(ms) : new Promise((r) => setTimeout(r, ms));
  }
}

/** Same request id, source, language, inputs and limits: the same Judge0 work. */
function jobKey(job: ExecutionJob): string {
  const hash = createHash('sha256').update(job.language).update('\0').update(job.source).update('\0').update(JSON.stringify(job.limits));
  for (const c of job.cases) hash.update('\0').update(String(c.index)).update('\0').update(c.input);
  return `${job.id}:${hash.digest('hex')}`;
}

/** Base64 (Judge0 sends Ruby's encode64, with line breaks) to text, keeping at most `keep` bytes. */
function unb64(value: string | null | undefined, keep: number): { text: string; bytes: number } {
  if (!value) return { text: '', bytes: 0 };
  const bytes = Buffer.from(value, 'base64');
  return { text: bytes.subarray(0, keep).toString('utf8'), bytes: bytes.length };
}

function validationErrors(answer: Record<string, unknown>): Record<string, string[]> {
  const errors: Record<string, string[]> = {};
  for (const [field, messages] of Object.entries(answer))
    errors[field] = Array.isArray(messages) ? messages.map(String) : [String(messages)];
  return Object.keys(errors).length ? errors : { submission: ['rejected without a reason'] };
}

function internalError(message: string): RunOutcome {
  return { status: 'internal-error', exitCode: null, signal: null, stdout: '', stderr: '', timeMs: 0, wallMs: 0, memoryMb: 0, message };
}

function lostSubmission(token: string, index: number): Judge0Submission {
  const message = Buffer.from(`Judge0 no longer knows submission ${token} (case ${index})`).toString('base64');
  return {
    token,
    status: { id: JUDGE0_STATUS.INTERNAL_ERROR, description: 'Internal Error' },
    stdout: null,
    stderr: null,
    compile_output: null,
    message,
    time: null,
    memory: null,
    exit_code: null,
    exit_signal: null,
  };
}
