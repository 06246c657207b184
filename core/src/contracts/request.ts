/**
 * The grading request (docs/contracts/grading-request.schema.json), exactly. Unknown fields are
 * rejected so a typo in a producer shows up in grading-dlq instead of being ignored; add a field
 * here before a producer starts sending it.
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
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://grading-stack/schemas/grading-request.json',
  title: 'Grading request (queues grading-requests, grading-priority)',
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
    timeLimit: { type: 'integer', minimum: 100, maximum: 20000, description: 'per test case, milliseconds' },
    memoryLimit: { type: 'integer', minimum: 16, maximum: 1024, description: 'megabytes' },
    timestamp: { type: 'string', format: 'date-time' },
  },
} as const;

export const validateGradingRequest = validatorFor<GradingRequest>(gradingRequestSchema);

/** Parses a message body: bad JSON and schema errors both come back as readable errors. */
export function parseGradingRequest(
  body: string,
): { ok: true; value: GradingRequest } | { ok: false; reason: 'invalid-json' | 'schema'; errors: string[] } {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch (error) {
    return { ok: false, reason: 'invalid-json', errors: [`body is not JSON: ${(error as Error).message}`] };
  }
  const checked = validateGradingRequest(data);
  return checked.ok ? checked : { ok: false, reason: 'schema', errors: checked.errors };
}

/**
 * The requestId of a message that is not a valid request, when one can be read: from the parsed
 * object if the body is JSON, else from a `"requestId": "..."` pair in the text. Only ids that match
 * the id pattern count, so a result is never published under a malformed id.
 */
export function readableRequestId(body: string): string | undefined {
  let candidate: unknown;
  try {
    const data: unknown = JSON.parse(body);
    candidate = data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>).requestId : undefined;
  } catch {
    const matches = [...body.matchAll(/"requestId"\s*:\s*"([^"\\]{1,64})"/g)];
    // Two different ids in one broken body: neither is trustworthy.
    candidate = new Set(matches.map((m) => m[1])).size === 1 ? matches[0][1] : undefined;
  }
  return typeof candidate === 'string' && new RegExp(ID_PATTERN).test(candidate) ? candidate : undefined;
}
