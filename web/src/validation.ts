/**
 * Checks a submission as it arrives over HTTP, before anything is stored: every problem is
 * reported at once, each naming its field. Whether the problem exists is asked of S3 afterwards
 * (see server.ts); the full request is validated again with the worker's schema before sending.
 */
import { isLanguage, Language, LANGUAGE_IDS } from '../../core/src/languages';

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

/**
 * A user id is an identity provider's `sub` (Auth0's `auth0|5f...`, Cognito's UUIDs): printable
 * ASCII without spaces, 1-128 characters (the grading request allows 128). It never forms an S3 key.
 */
export const USER_ID_PATTERN = /^[\x21-\x7e]{1,128}$/;
const USER_ID_ALPHABET = 'printable ASCII without spaces';
/** Problem and request ids end up in S3 keys and log lines: keep them to a safe alphabet. */
export const PROBLEM_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
// The contracts allow ids of up to 64 characters of [A-Za-z0-9_-].
export const REQUEST_ID_PATTERN = /^req_[A-Za-z0-9_-]{1,60}$/;

const KNOWN_FIELDS = new Set(['userId', 'problemId', 'language', 'sourceCode', 'priority']);
const BODY_FIELDS = new Set(['problemId', 'language', 'sourceCode', 'priority']);

/** The submission as a site's trusted back end hands it to GradingClient: the user id included. */
export function validateSubmission(
  body: unknown,
  limits: SubmissionLimits = { maxSourceBytes: DEFAULT_MAX_SOURCE_BYTES },
): Validation<SubmissionInput> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, errors: [{ field: '(body)', message: 'must be a JSON object' }] };
  }
  const errors: FieldError[] = [];
  checkId((body as Record<string, unknown>).userId, 'userId', USER_ID_PATTERN, USER_ID_ALPHABET, errors, 128);
  return checkSubmissionFields(
    body as Record<string, unknown>,
    limits,
    KNOWN_FIELDS,
    errors,
    (body as Record<string, unknown>).userId as string,
  );
}

export type SubmissionBody = Omit<SubmissionInput, 'userId'>;

/**
 * The body of POST /api/submissions. The user is whoever the bearer token names: a `userId` field
 * is refused (400), not ignored, so a client that still sends one learns at once that it means nothing.
 */
export function validateSubmissionBody(
  body: unknown,
  limits: SubmissionLimits = { maxSourceBytes: DEFAULT_MAX_SOURCE_BYTES },
): Validation<SubmissionBody> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, errors: [{ field: '(body)', message: 'must be a JSON object' }] };
  }
  const errors: FieldError[] = [];
  if ('userId' in body) errors.push(USER_ID_REFUSED);
  const checked = checkSubmissionFields(body as Record<string, unknown>, limits, new Set([...BODY_FIELDS, 'userId']), errors, '');
  if (!checked.ok) return checked;
  const { userId: _ignored, ...value } = checked.value;
  return { ok: true, value };
}

const USER_ID_REFUSED: FieldError = { field: 'userId', message: 'is not accepted: the gateway takes the user from the bearer token' };

function checkSubmissionFields(
  input: Record<string, unknown>,
  limits: SubmissionLimits,
  known: Set<string>,
  errors: FieldError[],
  userId: string,
): Validation<SubmissionInput> {
  checkId(input.problemId, 'problemId', PROBLEM_ID_PATTERN, 'letters, digits, _ and -', errors);

  if (input.language === undefined) errors.push({ field: 'language', message: 'is required' });
  else if (!isLanguage(input.language))
    errors.push({ field: 'language', message: `must be one of ${LANGUAGE_IDS.join(', ')} (got ${describe(input.language)})` });

  if (input.sourceCode === undefined) errors.push({ field: 'sourceCode', message: 'is required' });
  else if (typeof input.sourceCode !== 'string') errors.push({ field: 'sourceCode', message: 'must be a string' });
  else if (input.sourceCode.trim() === '') errors.push({ field: 'sourceCode', message: 'must not be empty' });
  else {
    const bytes = Buffer.byteLength(input.sourceCode, 'utf8');
    if (bytes > limits.maxSourceBytes)
      errors.push({ field: 'sourceCode', message: `is ${bytes} bytes; the limit is ${limits.maxSourceBytes}` });
    if (input.sourceCode.includes('\0')) errors.push({ field: 'sourceCode', message: 'must not contain NUL characters' });
  }

  if (input.priority !== undefined && typeof input.priority !== 'boolean')
    errors.push({ field: 'priority', message: 'must be true or false' });

  for (const key of Object.keys(input)) {
    if (!known.has(key))
      errors.push({
        field: key,
        message: `is not a known field (expected ${[...known].filter((k) => k !== 'userId' || known === KNOWN_FIELDS).join(', ')})`,
      });
  }

  if (errors.length) return { ok: false, errors };
  return {
    ok: true,
    value: {
      userId,
      problemId: input.problemId as string,
      language: input.language as Language,
      sourceCode: input.sourceCode as string,
      ...(input.priority !== undefined ? { priority: input.priority as boolean } : {}),
    },
  };
}

/** Body of POST /api/submissions/:id/review: whether to replace a stored review (the author is the token's user). */
export function validateReviewRequest(body: unknown): Validation<{ regenerate: boolean }> {
  const input = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  const errors: FieldError[] = [];
  if ('userId' in input) errors.push(USER_ID_REFUSED);
  if (input.regenerate !== undefined && typeof input.regenerate !== 'boolean')
    errors.push({ field: 'regenerate', message: 'must be true or false' });
  for (const key of Object.keys(input)) {
    if (key !== 'userId' && key !== 'regenerate') errors.push({ field: key, message: 'is not a known field (expected regenerate)' });
  }
  if (errors.length) return { ok: false, errors };
  return { ok: true, value: { regenerate: input.regenerate === true } };
}

function checkId(value: unknown, field: string, pattern: RegExp, alphabet: string, errors: FieldError[], maxLength = 64): void {
  if (value === undefined || value === null || value === '') errors.push({ field, message: 'is required' });
  else if (typeof value !== 'string') errors.push({ field, message: `must be a string (got ${describe(value)})` });
  else if (!pattern.test(value))
    errors.push({
      field,
      message: `must be 1-${maxLength} characters of ${alphabet}${maxLength === 64 ? ', starting with a letter or digit' : ''}`,
    });
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  return value === null ? 'null' : typeof value;
}
