/**
 * Live progress on the topic every gateway subscribes to: one `case` event per finished test case
 * (in finishing order), then one `final` event with the whole result. A `run` event carries the
 * result of a run with custom input (run.ts); consumers ignore event types they do not know.
 */
import type { GradingResult, Verdict } from './result';
import { gradingResultSchema, VERDICTS } from './result';
import type { RunResult } from './run';
import { RUN_ID_PATTERN, runResultSchema } from './run';
import { validatorFor } from './validator';

export interface CaseProgressEvent {
  type: 'case';
  requestId: string;
  case: number;
  total: number;
  status: Verdict;
  time: number;
  memory: number;
}

export interface FinalProgressEvent {
  type: 'final';
  requestId: string;
  result: GradingResult;
}

/** The outcome of a run with custom input (not a grading: no case or final event precedes or follows it). */
export interface RunProgressEvent {
  type: 'run';
  runId: string;
  result: RunResult;
}

/** What a grading publishes (runs publish RunProgressEvent). */
export type GradingProgressEvent = CaseProgressEvent | FinalProgressEvent;
export type ProgressEvent = GradingProgressEvent | RunProgressEvent;

export const progressEventSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://grading-stack/schemas/progress-event.json',
  title: 'Live progress event (topic grading-progress)',
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'requestId', 'case', 'total', 'status', 'time', 'memory'],
      properties: {
        type: { const: 'case' },
        requestId: { type: 'string' },
        case: { type: 'integer', minimum: 1 },
        total: { type: 'integer', minimum: 1 },
        status: { type: 'string', enum: VERDICTS },
        time: { type: 'integer', minimum: 0, description: 'CPU time, milliseconds' },
        memory: { type: 'integer', minimum: 0, description: 'peak memory, megabytes rounded up' },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'requestId', 'result'],
      properties: { type: { const: 'final' }, requestId: { type: 'string' }, result: { $ref: gradingResultSchema.$id } },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'runId', 'result'],
      properties: { type: { const: 'run' }, runId: { type: 'string', pattern: RUN_ID_PATTERN }, result: { $ref: runResultSchema.$id } },
    },
  ],
} as const;

export const validateProgressEvent = validatorFor<ProgressEvent>(progressEventSchema);
