/**
 * The grading result (docs/contracts/grading-result.schema.json). Besides the documented fields, a
 * result may carry `result.compileOutput` (for CE) and per-case `message`; a failed one carries
 * `reason` (one of FAILURE_REASONS, for programs) and `error` (the reason and its detail, for people).
 *
 * Units and types: times are integer milliseconds, memory is integer megabytes rounded up (a
 * program that used 0.3 MB shows 1, so nothing that ran reads 0), `score` is an integer 0-100
 * (weights of accepted cases over all, rounded down, so 100 means every case passed).
 */
import { validatorFor } from './validator';

export const VERDICTS = ['AC', 'WA', 'TLE', 'MLE', 'RE', 'CE', 'OLE', 'IE'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** Why a request ended `failed` (documented in docs/contracts/README.md). */
export const FAILURE_REASONS = [
  'invalid-json',
  'schema-validation',
  'request-id-reused',
  'source-not-found',
  'invalid-problem-or-source',
  'max-attempts-exceeded',
  'transient-failure-exhausted',
  'internal-error',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export interface TestResult {
  case: number;
  status: Verdict;
  /** ms, integer */
  time: number;
  /** MB, integer, rounded up */
  memory: number;
  message?: string;
  /** Partial credit from a checker program, a fraction 0..1 of the case (status is then WA). */
  points?: number;
  /**
   * Not run: every subtask of the case had already failed. `status` repeats the verdict that failed
   * it, time and memory are 0.
   */
  skipped?: boolean;
}

/** A subtask's outcome (problems with subtasks). */
export interface SubtaskResult {
  name: string;
  /** What the subtask is worth. */
  points: number;
  /** What it earned: all or nothing, or points x the lowest case fraction (`min` scoring). */
  score: number;
}

export interface GradingOutcome {
  verdict: Verdict;
  /** Integer 0..100. */
  score: number;
  /** Max over cases, ms, integer. */
  executionTime: number;
  /** Max over cases, MB, integer, rounded up. */
  memoryUsage: number;
  testResults: TestResult[];
  /** Per subtask, in manifest order (only for problems with subtasks; then `score` is subtask points earned over all, x100). */
  subtasks?: SubtaskResult[];
  compileOutput?: string;
}

export interface GradingResult {
  requestId: string;
  status: 'completed' | 'failed';
  result?: GradingOutcome;
  resultFile?: string;
  /** Why a failed request could not be graded, as a code. */
  reason?: FailureReason;
  /** Why a failed request could not be graded, in words (`<reason>: <detail>`). */
  error?: string;
  timestamp: string;
}

const testResultSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['case', 'status', 'time', 'memory'],
  properties: {
    case: { type: 'integer', minimum: 1 },
    status: { type: 'string', enum: VERDICTS },
    time: { type: 'integer', minimum: 0, description: 'CPU time, milliseconds' },
    memory: { type: 'integer', minimum: 0, description: 'peak memory, megabytes rounded up' },
    message: { type: 'string', maxLength: 2000 },
    points: { type: 'number', minimum: 0, maximum: 1, description: 'partial credit from a checker program, fraction of the case' },
    skipped: { type: 'boolean', description: 'not run: its subtasks had already failed (status repeats that failure)' },
  },
} as const;

const subtaskResultSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'points', 'score'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 40 },
    points: { type: 'number', minimum: 0 },
    score: { type: 'number', minimum: 0 },
  },
} as const;

export const gradingResultSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://grading-stack/schemas/grading-result.json',
  title: 'Grading result (queue grading-results, results/{requestId}/result.json)',
  type: 'object',
  additionalProperties: false,
  required: ['requestId', 'status', 'timestamp'],
  properties: {
    requestId: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
    status: { type: 'string', enum: ['completed', 'failed'] },
    result: {
      type: 'object',
      additionalProperties: false,
      required: ['verdict', 'score', 'executionTime', 'memoryUsage', 'testResults'],
      properties: {
        verdict: { type: 'string', enum: VERDICTS },
        score: { type: 'integer', minimum: 0, maximum: 100, description: 'weights of accepted cases over all weights, x100, rounded down' },
        executionTime: { type: 'integer', minimum: 0, description: 'largest case time, milliseconds' },
        memoryUsage: { type: 'integer', minimum: 0, description: 'largest case memory, megabytes rounded up' },
        testResults: { type: 'array', items: testResultSchema },
        subtasks: { type: 'array', items: subtaskResultSchema },
        compileOutput: { type: 'string', maxLength: 65536 },
      },
    },
    resultFile: { type: 'string', pattern: '^(s3|file)://.+$' },
    reason: { type: 'string', enum: FAILURE_REASONS },
    error: { type: 'string', maxLength: 4000 },
    timestamp: { type: 'string', format: 'date-time' },
  },
  allOf: [
    { if: { properties: { status: { const: 'completed' } } }, then: { required: ['result'] } },
    { if: { properties: { status: { const: 'failed' } } }, then: { required: ['reason', 'error'] } },
  ],
} as const;

export const validateGradingResult = validatorFor<GradingResult>(gradingResultSchema);
