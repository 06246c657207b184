/**
 * Turns what a stream learns (live progress, buffered progress, the stored result), in whatever
 * order and with whatever repeats, into the events its client has not seen yet: each test case
 * exactly once, then the final result, then nothing.
 */
import type { GradingResult, ProgressItem, TestResult } from './progressItems';
import { encodeCasesId, FINAL_EVENT_ID, MAX_CASE_NUMBER, StreamPosition } from './sse';

export type GatewayEvent =
  | { type: 'case'; id: string; requestId: string; testResult: TestResult; totalCases?: number }
  | { type: 'final'; id: string; requestId: string; result: GradingResult };

export class DeliveryCursor {
  private readonly delivered: Set<number>;
  private finished: boolean;

  /** `position` is what the client already has (from its Last-Event-ID). */
  constructor(position: StreamPosition) {
    this.delivered = new Set(position.cases);
    this.finished = position.final;
  }

  /** True once the final event has been produced (or the client already had it). */
  get done(): boolean {
    return this.finished;
  }

  take(item: ProgressItem): GatewayEvent[] {
    if (this.finished) return [];
    if (item.kind === 'case') {
      const event = this.caseEvent(item.requestId, item.testResult, item.totalCases);
      return event ? [event] : [];
    }
    // The final result carries every case: fill in whatever this client has not seen.
    const events: GatewayEvent[] = [];
    const cases = item.result.result?.testResults ?? [];
    for (const testResult of [...cases].sort((a, b) => a.case - b.case)) {
      const event = this.caseEvent(item.requestId, testResult, cases.length);
      if (event) events.push(event);
    }
    events.push({ type: 'final', id: FINAL_EVENT_ID, requestId: item.requestId, result: item.result });
    this.finished = true;
    return events;
  }

  private caseEvent(requestId: string, testResult: TestResult, totalCases?: number): GatewayEvent | undefined {
    const n = testResult.case;
    if (!Number.isInteger(n) || n < 1 || n > MAX_CASE_NUMBER || this.delivered.has(n)) return undefined;
    this.delivered.add(n);
    return { type: 'case', id: encodeCasesId(this.delivered), requestId, testResult, ...(totalCases ? { totalCases } : {}) };
  }
}
