import assert from 'node:assert/strict';
import { validateReviewRequest, validateSubmission, validateSubmissionBody } from '../../web/src/validation';

const good = { userId: 'user_001', problemId: 'sum-two', language: 'python', sourceCode: 'print(1)' };

function fieldsOf(body: unknown, maxSourceBytes = 64 * 1024): string[] {
  const v = validateSubmission(body, { maxSourceBytes });
  assert.equal(v.ok, false);
  return v.ok ? [] : v.errors.map((e) => e.field);
}

describe('web submission validation', () => {
  it('accepts a good submission and keeps priority when given', () => {
    assert.deepEqual(validateSubmission(good), { ok: true, value: good });
    assert.deepEqual(validateSubmission({ ...good, priority: true }), { ok: true, value: { ...good, priority: true } });
  });

  it('reports every missing field at once', () => {
    assert.deepEqual(fieldsOf({}), ['userId', 'problemId', 'language', 'sourceCode']);
  });

  it('refuses a body that is not an object', () => {
    for (const body of [null, [], 'x', 3]) assert.deepEqual(fieldsOf(body), ['(body)']);
  });

  it('names an unknown language and lists the known ones', () => {
    const v = validateSubmission({ ...good, language: 'cobol' });
    assert.equal(v.ok, false);
    if (!v.ok) {
      assert.equal(v.errors[0].field, 'language');
      assert.match(v.errors[0].message, /python/);
      assert.match(v.errors[0].message, /"cobol"/);
    }
  });

  it('limits the source size in UTF-8 bytes, not characters', () => {
    assert.equal(validateSubmission({ ...good, sourceCode: 'é'.repeat(50) }, { maxSourceBytes: 100 }).ok, true);
    const v = validateSubmission({ ...good, sourceCode: 'é'.repeat(51) }, { maxSourceBytes: 100 });
    assert.equal(v.ok, false);
    if (!v.ok) assert.deepEqual(v.errors, [{ field: 'sourceCode', message: 'is 102 bytes; the limit is 100' }]);
  });

  it('refuses empty or blank source, and NUL bytes', () => {
    assert.deepEqual(fieldsOf({ ...good, sourceCode: '  \n' }), ['sourceCode']);
    assert.deepEqual(fieldsOf({ ...good, sourceCode: 'a\0b' }), ['sourceCode']);
    assert.deepEqual(fieldsOf({ ...good, sourceCode: 42 }), ['sourceCode']);
  });

  it('keeps ids to a safe alphabet (they become S3 keys)', () => {
    assert.deepEqual(fieldsOf({ ...good, problemId: '../etc' }), ['problemId']);
    assert.deepEqual(fieldsOf({ ...good, problemId: 'a/b' }), ['problemId']);
    assert.deepEqual(fieldsOf({ ...good, userId: 'x'.repeat(129) }), ['userId']);
    assert.deepEqual(fieldsOf({ ...good, userId: 'a b' }), ['userId']);
    // Identity providers' subjects such as Auth0's are user ids too.
    assert.equal(validateSubmission({ ...good, userId: 'auth0|5f7c8ec7c33c6c004bbafe82' }).ok, true);
    assert.deepEqual(fieldsOf({ ...good, userId: 7 }), ['userId']);
  });

  it('refuses a non-boolean priority and unknown fields', () => {
    assert.deepEqual(fieldsOf({ ...good, priority: 'yes' }), ['priority']);
    assert.deepEqual(fieldsOf({ ...good, timeLimit: 1 }), ['timeLimit']);
  });

  it('refuses a userId in an HTTP body (the user comes from the token), with the other problems at once', () => {
    const { userId: _u, ...body } = good;
    assert.deepEqual(validateSubmissionBody(body), { ok: true, value: body });
    const v = validateSubmissionBody({ ...body, userId: 'someone_else', language: 'cobol' });
    assert.equal(v.ok, false);
    if (!v.ok) {
      assert.deepEqual(
        v.errors.map((e) => e.field),
        ['userId', 'language'],
      );
      assert.match(v.errors[0].message, /bearer token/);
    }
    assert.deepEqual(validateReviewRequest({ regenerate: true }), { ok: true, value: { regenerate: true } });
    assert.equal(validateReviewRequest({ userId: 'u1' }).ok, false);
  });
});
