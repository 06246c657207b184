/**
 * The grading result (ARCHITECTURE.md). Besides the documented fields, a result may carry
 * `result.compileOutput` (for CE) and per-case `message`, and a failed one carries `error`.
 */
import { validatorFor } from './validator';

export const VERDICTS = ['AC', 'WA', 'TLE', 'MLE', 'RE', 'CE', 'OLE', 'IE'] as const;
export type Verdict = (typeof VERDICTS)[number];

export interface TestResult {
  case: number;
  status: Verdict;
  /** ms */
  time: number;
  /** MB */
  memory: number;
  message?: string;
}

export interface GradingOutcome {
  verdict: Verdict;
  /** 0..100 */
  score: number;
  /** Max over cases, ms. */
  executionTime: number;
  /** Max over cases, MB. */
  memoryUsage: number;
  testResults: TestResult[];
  compileOutput?: string;
}

export interface GradingResult {
  requestId: string;
  status: 'completed' | 'failed';
  result?: GradingOutcome;
  resultFile?: string;
  /** Why a failed request could not be graded. */
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
    time: { type: 'number', minimum: 0 },
    memory: { type: 'number', minimum: 0 },
    message: { type: 'string', maxLength: 2000 },
  },
} as const;

export const gradingResultSchema = {
  $id: 'https://grading-stack/schemas/grading-result.json',
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
        score: { type: 'number', minimum: 0, maximum: 100 },
        executionTime: { type: 'number', minimum: 0 },
        memoryUsage: { type: 'number', minimum: 0 },
        testResults: { type: 'array', items: testResultSchema },
        compileOutput: { type: 'string', maxLength: 65536 },
      },
    },
    resultFile: { type: 'string', pattern: '^(s3|file)://.+$' },
    error: { type: 'string', maxLength: 4000 },
    timestamp: { type: 'string', format: 'date-time' },
  },
  allOf: [
    { if: { properties: { status: { const: 'completed' } } }, then: { required: ['result'] } },
    { if: { properties: { status: { const: 'failed' } } }, then: { required: ['error'] } },
  ],
} as const;

export const validateGradingResult = validatorFor<GradingResult>(gradingResultSchema);
