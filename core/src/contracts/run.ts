/**
 * Runs with custom input ("Run" on the page, POST /api/runs): the program compiled and run once on
 * the user's stdin under the problem's limits, not graded and not stored as a submission.
 *
 * - The run request travels on grading-requests beside grading requests, told apart by
 *   `"mode": "run"`; it carries `runId`, never `requestId`, so a worker that predates runs
 *   dead-letters it without publishing anything on grading-results. Source and stdin are inline
 *   and bounded (RUN_LIMITS). Gateways send it non-persistent with an expiry: a run nobody took in
 *   time is dropped by the broker (not dead-lettered), a broker restart forgets it.
 * - The run result goes to the progress topic as a `run` event (progress.ts), never to
 *   grading-results: sites consuming results are not confused by runs, and every gateway instance
 *   hears it. It holds only what the user's own program printed (bounded excerpts); no test data.
 */
import { LANGUAGE_IDS, Language } from '../languages';
import { validatorFor } from './validator';

export const RUN_ID_PATTERN = '^run_[A-Za-z0-9_-]{1,60}$';

export const RUN_LIMITS = {
  /** Inline source, characters (the worker's own bound for a source file is 1 MB). */
  sourceChars: 256 * 1024,
  /** Inline stdin, characters. */
  stdinChars: 64 * 1024,
  /** stdout excerpt in the result, characters. */
  stdoutChars: 64 * 1024,
  /** stderr excerpt in the result, characters. */
  stderrChars: 8 * 1024,
  /** Compiler output in the result, characters. */
  compileOutputChars: 8 * 1024,
  /** Free text (why a run ended this way), characters. */
  messageChars: 1000,
} as const;

/** OK: exited 0; CE: did not compile; RE: non-zero exit or a signal; TLE/MLE/OLE: a limit; IE: the run could not be done. */
export const RUN_STATUSES = ['OK', 'CE', 'RE', 'TLE', 'MLE', 'OLE', 'IE'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface RunRequest {
  mode: 'run';
  runId: string;
  userId: string;
  problemId: string;
  language: Language;
  source: string;
  stdin: string;
  /** The problem's test-case prefix: where its manifest (limits) is; the test data itself is never used. */
  testCases: string;
  /** The problem's limits as the gateway knows them (ms, MB); the manifest's (and per-language) limits win, as in grading. */
  timeLimit: number;
  memoryLimit: number;
  timestamp: string;
}

export interface RunResult {
  runId: string;
  status: RunStatus;
  /** The program's stdout, at most RUN_LIMITS.stdoutChars. */
  stdout: string;
  /** Bytes the program wrote to stdout in all (more than the excerpt when truncated). */
  stdoutBytes: number;
  stdoutTruncated: boolean;
  /** The program's stderr, at most RUN_LIMITS.stderrChars. */
  stderr: string;
  /** For CE. */
  compileOutput?: string;
  exitCode: number | null;
  signal?: string;
  /** CPU ms, integer. */
  time: number;
  /** Peak MB, integer, rounded up. */
  memory: number;
  /** The limits it ran under: ms, MB, bytes. */
  limits?: { timeLimit: number; memoryLimit: number; outputLimit: number };
  /** Why it ended this way (a limit, a signal, why it could not run), for people. */
  message?: string;
  timestamp: string;
}

export const runRequestSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://grading-stack/schemas/run-request.json',
  title: 'Run with custom input (queue grading-requests, "mode": "run")',
  type: 'object',
  additionalProperties: false,
  required: ['mode', 'runId', 'userId', 'problemId', 'language', 'source', 'stdin', 'testCases', 'timeLimit', 'memoryLimit', 'timestamp'],
  properties: {
    mode: { const: 'run' },
    runId: { type: 'string', pattern: RUN_ID_PATTERN },
    userId: { type: 'string', minLength: 1, maxLength: 128 },
    problemId: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
    language: { type: 'string', enum: LANGUAGE_IDS },
    source: { type: 'string', minLength: 1, maxLength: RUN_LIMITS.sourceChars },
    stdin: { type: 'string', maxLength: RUN_LIMITS.stdinChars },
    testCases: { type: 'string', pattern: '^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+/$' },
    timeLimit: { type: 'integer', minimum: 100, maximum: 20000, description: 'milliseconds' },
    memoryLimit: { type: 'integer', minimum: 16, maximum: 1024, description: 'megabytes' },
    timestamp: { type: 'string', format: 'date-time' },
  },
} as const;

export const runResultSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://grading-stack/schemas/run-result.json',
  title: 'Result of a run with custom input (the `run` event of topic grading-progress; GET /api/runs/:id)',
  type: 'object',
  additionalProperties: false,
  required: ['runId', 'status', 'stdout', 'stdoutBytes', 'stdoutTruncated', 'stderr', 'exitCode', 'time', 'memory', 'timestamp'],
  properties: {
    runId: { type: 'string', pattern: RUN_ID_PATTERN },
    status: { type: 'string', enum: RUN_STATUSES },
    stdout: { type: 'string', maxLength: RUN_LIMITS.stdoutChars },
    stdoutBytes: { type: 'integer', minimum: 0 },
    stdoutTruncated: { type: 'boolean' },
    stderr: { type: 'string', maxLength: RUN_LIMITS.stderrChars },
    compileOutput: { type: 'string', maxLength: RUN_LIMITS.compileOutputChars },
    exitCode: { type: ['integer', 'null'] },
    signal: { type: 'string', maxLength: 32 },
    time: { type: 'integer', minimum: 0, description: 'CPU time, milliseconds' },
    memory: { type: 'integer', minimum: 0, description: 'peak memory, megabytes rounded up' },
    limits: {
      type: 'object',
      additionalProperties: false,
      required: ['timeLimit', 'memoryLimit', 'outputLimit'],
      properties: {
        timeLimit: { type: 'integer', minimum: 0, description: 'milliseconds' },
        memoryLimit: { type: 'integer', minimum: 0, description: 'megabytes' },
        outputLimit: { type: 'integer', minimum: 0, description: 'bytes of stdout' },
      },
    },
    message: { type: 'string', maxLength: RUN_LIMITS.messageChars },
    timestamp: { type: 'string', format: 'date-time' },
  },
} as const;

export const validateRunRequest = validatorFor<RunRequest>(runRequestSchema);
export const validateRunResult = validatorFor<RunResult>(runResultSchema);

/**
 * Whether a queue message is meant as a run (`"mode": "run"` in a JSON object), valid or not: the
 * worker's one branch point. Cheap for grading requests, which never contain `"mode"`.
 */
export function isRunMessage(body: string): boolean {
  if (!body.includes('"mode"')) return false;
  try {
    const data: unknown = JSON.parse(body);
    return !!data && typeof data === 'object' && (data as Record<string, unknown>).mode === 'run';
  } catch {
    return /"mode"\s*:\s*"run"/.test(body);
  }
}

/** The runId of a run message that is not valid, when one can be read (to tell its owner why). */
export function readableRunId(body: string): string | undefined {
  let candidate: unknown;
  try {
    const data: unknown = JSON.parse(body);
    candidate = data && typeof data === 'object' ? (data as Record<string, unknown>).runId : undefined;
  } catch {
    candidate = /"runId"\s*:\s*"([^"\\]{1,64})"/.exec(body)?.[1];
  }
  return typeof candidate === 'string' && new RegExp(RUN_ID_PATTERN).test(candidate) ? candidate : undefined;
}
