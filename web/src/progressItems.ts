/**
 * What the gateway forwards about one grading: each finished test case, then the final result.
 * Parsed from the progress topic (the worker's progress events) or built from the stored result.
 */
// PLACEHOLDER types until worker/src/contracts lands; replaced by the contracts' own types.
export interface TestCaseResult {
  case: number;
  status: string;
  time?: number;
  memory?: number;
  [extra: string]: unknown;
}

export interface GradingResult {
  requestId: string;
  status: 'completed' | 'failed';
  result?: { verdict: string; testResults?: TestCaseResult[]; [extra: string]: unknown };
  [extra: string]: unknown;
}

export type ProgressItem =
  | { kind: 'case'; requestId: string; testResult: TestCaseResult; totalCases?: number }
  | { kind: 'final'; requestId: string; result: GradingResult };
