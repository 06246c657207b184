/**
 * The grading request (ARCHITECTURE.md), exactly. Unknown fields are rejected so a typo in a
 * producer shows up in grading-dlq instead of being ignored; add a field here before a producer
 * starts sending it.
 */
import { LANGUAGE_IDS, Language } from '../languages';
import { validatorFor } from './validator';

export interface GradingRequest {
  requestId: string;
  userId: string;
  problemId: string;
  language: Language;
  /** s3://bucket/submissions/{requestId}/solution.{ext} */
  sourceFile: string;
  /** s3://bucket/problems/{problemId}/testcases/ */
  testCases: string;
  /** Per test case, ms. */
  timeLimit: number;
  /** MB. */
  memoryLimit: number;
  timestamp: string;
}

export const ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';

export const gradingRequestSchema = {
  $id: 'https://grading-stack/schemas/grading-request.json',
  type: 'object',
  additionalProperties: false,
  required: ['requestId', 'userId', 'problemId', 'language', 'sourceFile', 'testCases', 'timeLimit', 'memoryLimit', 'timestamp'],
  properties: {
    requestId: { type: 'string', pattern: ID_PATTERN },
    userId: { type: 'string', minLength: 1, maxLength: 128 },
    problemId: { type: 'string', pattern: ID_PATTERN },
    language: { type: 'string', enum: LANGUAGE_IDS },
    sourceFile: { type: 'string', pattern: '^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+$' },
    testCases: { type: 'string', pattern: '^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+/$' },
    timeLimit: { type: 'integer', minimum: 100, maximum: 20000 },
    memoryLimit: { type: 'integer', minimum: 16, maximum: 1024 },
    timestamp: { type: 'string', format: 'date-time' },
  },
} as const;

export const validateGradingRequest = validatorFor<GradingRequest>(gradingRequestSchema);

/** Parses a message body: bad JSON and schema errors both come back as readable errors. */
export function parseGradingRequest(body: string): { ok: true; value: GradingRequest } | { ok: false; reason: 'invalid-json' | 'schema'; errors: string[] } {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch (error) {
    return { ok: false, reason: 'invalid-json', errors: [`body is not JSON: ${(error as Error).message}`] };
  }
  const checked = validateGradingRequest(data);
  return checked.ok ? checked : { ok: false, reason: 'schema', errors: checked.errors };
}
