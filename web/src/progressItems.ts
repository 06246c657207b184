/**
 * What the gateway forwards about one grading: each finished test case, then the final result.
 * Built from the worker's progress events on the topic (contracts/progress.ts) or from the stored
 * result document.
 */
import { GradingResult, TestResult, validateProgressEvent } from '../../core/src/contracts';

export type { GradingResult, TestResult };

export type ProgressItem =
  | { kind: 'case'; requestId: string; testResult: TestResult; totalCases?: number }
  | { kind: 'final'; requestId: string; result: GradingResult };

/**
 * A progress topic message as an item; undefined when it does not match the contract, null when it
 * is a valid event that is not about a grading (a `run` event: web/src/runs/ follows those).
 */
export function parseProgressMessage(body: string): ProgressItem | null | undefined {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    return undefined;
  }
  const checked = validateProgressEvent(data);
  if (!checked.ok) return undefined;
  const event = checked.value;
  if (event.type === 'run') return null;
  if (event.type === 'final') return { kind: 'final', requestId: event.requestId, result: event.result };
  return {
    kind: 'case',
    requestId: event.requestId,
    testResult: { case: event.case, status: event.status, time: event.time, memory: event.memory },
    totalCases: event.total,
  };
}
