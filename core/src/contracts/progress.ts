/**
 * Live progress on the topic every gateway subscribes to: one `case` event per finished test case
 * (in finishing order), then one `final` event with the whole result.
 */
import type { GradingResult, Verdict } from './result';
import { gradingResultSchema, VERDICTS } from './result';
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

export type ProgressEvent = CaseProgressEvent | FinalProgressEvent;

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
  ],
} as const;

export const validateProgressEvent = validatorFor<ProgressEvent>(progressEventSchema);
