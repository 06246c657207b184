/**
 * Checks a submission as it arrives over HTTP, before anything is stored: every problem is
 * reported at once, each naming its field. Whether the problem exists is asked of S3 afterwards
 * (see server.ts); the full request is validated again with the worker's schema before sending.
 */
import { isLanguage, Language, LANGUAGE_IDS } from '../../worker/src/languages';

export interface SubmissionInput {
  userId: string;
  problemId: string;
  language: Language;
  sourceCode: string;
  /** Queue on grading-priority instead of grading-requests. */
  priority?: boolean;
}

export interface FieldError {
  field: string;
  message: string;
}

export type Validation<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

export interface SubmissionLimits {
  /** Largest accepted source, bytes of UTF-8. */
  maxSourceBytes: number;
}

export const DEFAULT_MAX_SOURCE_BYTES = 64 * 1024;

/** Ids end up in S3 keys and log lines: keep them to a safe alphabet. */
export const USER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;
export const PROBLEM_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
// The contracts allow ids of up to 64 characters of [A-Za-z0-9_-].
export const REQUEST_ID_PATTERN = /^req_[A-Za-z0-9_-]{1,60}$/;

const KNOWN_FIELDS = new Set(['userId', 'problemId', 'language', 'sourceCode', 'priority']);

export function validateSubmission(body: unknown, limits: SubmissionLimits = { maxSourceBytes: DEFAULT_MAX_SOURCE_BYTES }): Validation<SubmissionInput> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, errors: [{ field: '(body)', message: 'must be a JSON object' }] };
  }
  const input = body as Record<string, unknown>;
  const errors: FieldError[] = [];

  checkId(input.userId, 'userId', USER_ID_PATTERN, 'letters, digits and _ . @ -', errors);
  checkId(input.problemId, 'problemId', PROBLEM_ID_PATTERN, 'letters, digits, _ and -', errors);

  if (input.language === undefined) errors.push({ field: 'language', message: 'is required' });
  else if (!isLanguage(input.language)) errors.push({ field: 'language', message: `must be one of ${LANGUAGE_IDS.join(', ')} (got ${describe(input.language)})` });

  if (input.sourceCode === undefined) errors.push({ field: 'sourceCode', message: 'is required' });
  else if (typeof input.sourceCode !== 'string') errors.push({ field: 'sourceCode', message: 'must be a string' });
  else if (input.sourceCode.trim() === '') errors.push({ field: 'sourceCode', message: 'must not be empty' });
  else {
    const bytes = Buffer.byteLength(input.sourceCode, 'utf8');
    if (bytes > limits.maxSourceBytes) errors.push({ field: 'sourceCode', message: `is ${bytes} bytes; the limit is ${limits.maxSourceBytes}` });
    if (input.sourceCode.includes('\0')) errors.push({ field: 'sourceCode', message: 'must not contain NUL characters' });
  }

  if (input.priority !== undefined && typeof input.priority !== 'boolean') errors.push({ field: 'priority', message: 'must be true or false' });

  for (const key of Object.keys(input)) {
    if (!KNOWN_FIELDS.has(key)) errors.push({ field: key, message: `is not a known field (expected ${[...KNOWN_FIELDS].join(', ')})` });
  }

  if (errors.length) return { ok: false, errors };
  return {
    ok: true,
    value: {
      userId: input.userId as string,
      problemId: input.problemId as string,
      language: input.language as Language,
      sourceCode: input.sourceCode as string,
      ...(input.priority !== undefined ? { priority: input.priority as boolean } : {}),
    },
  };
}

/** Body of POST /api/submissions/:id/review: the author's id and whether to replace a stored review. */
export function validateReviewRequest(body: unknown): Validation<{ userId: string; regenerate: boolean }> {
  const input = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  const errors: FieldError[] = [];
  checkId(input.userId, 'userId', USER_ID_PATTERN, 'letters, digits and _ . @ -', errors);
  if (input.regenerate !== undefined && typeof input.regenerate !== 'boolean') errors.push({ field: 'regenerate', message: 'must be true or false' });
  if (errors.length) return { ok: false, errors };
  return { ok: true, value: { userId: input.userId as string, regenerate: input.regenerate === true } };
}

function checkId(value: unknown, field: string, pattern: RegExp, alphabet: string, errors: FieldError[]): void {
  if (value === undefined || value === null || value === '') errors.push({ field, message: 'is required' });
  else if (typeof value !== 'string') errors.push({ field, message: `must be a string (got ${describe(value)})` });
  else if (!pattern.test(value)) errors.push({ field, message: `must be 1-64 characters of ${alphabet}, starting with a letter or digit` });
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  return value === null ? 'null' : typeof value;
}
