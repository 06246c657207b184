import assert from 'node:assert/strict';
import { SubmissionDebouncer, submissionKey } from '../../web/src/debounce';

const parts = { userId: 'u1', problemId: 'sum', language: 'python', sourceCode: 'print(1)' };

describe('web duplicate-submission debounce', () => {
  it('keys on user, problem, language and source', () => {
    const key = submissionKey(parts);
    assert.equal(submissionKey({ ...parts }), key);
    for (const change of [{ userId: 'u2' }, { problemId: 'other' }, { language: 'c' }, { sourceCode: 'print(2)' }]) {
      assert.notEqual(submissionKey({ ...parts, ...change }), key, JSON.stringify(change));
    }
    // Field boundaries matter: moving characters between fields changes the key.
    assert.notEqual(submissionKey({ ...parts, userId: 'u1s', problemId: 'um' }), key);
  });

  it('returns the first request id within the window and a fresh claim after it', () => {
    let now = 0;
    const debouncer = new SubmissionDebouncer({ windowMs: 5000, now: () => now });
    assert.equal(debouncer.claim('k', 'req_1'), undefined);
    now = 4999;
    assert.equal(debouncer.claim('k', 'req_2'), 'req_1');
    now = 5000;
    assert.equal(debouncer.claim('k', 'req_3'), undefined);
    assert.equal(debouncer.claim('k', 'req_4'), 'req_3');
  });

  it('release lets a failed submission be retried, but only by its own id', () => {
    const debouncer = new SubmissionDebouncer({ windowMs: 5000, now: () => 0 });
    debouncer.claim('k', 'req_1');
    debouncer.release('k', 'req_other');
    assert.equal(debouncer.claim('k', 'req_2'), 'req_1');
    debouncer.release('k', 'req_1');
    assert.equal(debouncer.claim('k', 'req_3'), undefined);
  });

  it('prunes expired entries and stays bounded', () => {
    let now = 0;
    const debouncer = new SubmissionDebouncer({ windowMs: 1000, maxEntries: 3, now: () => now });
    for (let i = 0; i < 10; i++) debouncer.claim(`k${i}`, `req_${i}`);
    assert.equal(debouncer.size, 3);
    now = 2000;
    debouncer.claim('fresh', 'req_f');
    assert.equal(debouncer.size, 1);
  });
});
