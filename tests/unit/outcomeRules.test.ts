/** The worker's pure decisions: which errors are retried, what makes two requests the same, where replies may go. */
import assert from 'node:assert/strict';
import type { GradingRequest } from '../../core/src/contracts';
import { GRADER_VERSION } from '../../worker/src/grading/version';
import { isTransientError } from '../../worker/src/retry';
import { replyDestination, requestFingerprint, resultCacheKey } from '../../worker/src/pipeline/rules';

const request: GradingRequest = {
  requestId: 'req_1',
  userId: 'u',
  problemId: 'sum',
  language: 'python',
  sourceFile: 's3://b/submissions/req_1/solution.py',
  testCases: 's3://b/problems/sum/testcases/',
  timeLimit: 1000,
  memoryLimit: 64,
  timestamp: '2026-01-01T00:00:00Z',
};
const own = {
  requests: '/queue/grading-requests',
  priority: '/queue/grading-priority',
  results: '/queue/grading-results',
  dlq: '/queue/grading-dlq',
  progress: '/topic/grading-progress',
};

describe('worker outcome rules', () => {
  it('retries only allow-listed transient errors', () => {
    const withCode = (code: string) => Object.assign(new Error(code), { code });
    for (const transient of [
      withCode('ECONNREFUSED'),
      withCode('ECONNRESET'),
      withCode('PROTOCOL_CONNECTION_LOST'),
      withCode('ER_LOCK_DEADLOCK'),
      Object.assign(new Error('We encountered an internal error'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } }),
      Object.assign(new Error('503'), { $metadata: { httpStatusCode: 503 } }),
      Object.assign(new Error('Please reduce your request rate'), { name: 'SlowDown' }),
      Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }),
      Object.assign(new Error('wrapped'), { cause: withCode('ETIMEDOUT') }),
    ]) {
      assert.equal(isTransientError(transient), true, (transient as Error).message);
    }
    for (const permanent of [
      new Error('internal: produced result violates its schema'),
      new TypeError("Cannot read properties of undefined (reading 'x')"),
      withCode('ER_PARSE_ERROR'),
      withCode('ER_ACCESS_DENIED_ERROR'),
      Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }),
      Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }),
      'a string',
      undefined,
    ]) {
      assert.equal(isTransientError(permanent), false, String((permanent as Error)?.message ?? permanent));
    }
  });

  it('fingerprints a request by what changes grading, not by its timestamp', () => {
    const base = requestFingerprint(request);
    assert.equal(requestFingerprint({ ...request, timestamp: '2026-02-02T00:00:00Z' }), base, 'a re-sent request is the same request');
    const changes = [
      { language: 'c' as const },
      { problemId: 'other' },
      { timeLimit: 2000 },
      { memoryLimit: 128 },
      { userId: 'v' },
      { sourceFile: 's3://b/x.py' },
    ];
    for (const change of changes) {
      assert.notEqual(requestFingerprint({ ...request, ...change }), base, JSON.stringify(change));
    }
  });

  it('keys the result cache by grader version and executor as well as the submission', () => {
    const input = {
      problemId: 'sum',
      language: 'python',
      sourceSha256: 'a'.repeat(64),
      testSetVersion: 'v1',
      timeLimit: 1000,
      memoryLimit: 64,
      executor: 'sandbox',
    };
    const key = resultCacheKey(input);
    assert.match(key, /^[0-9a-f]{64}$/);
    assert.equal(resultCacheKey({ ...input }), key);
    assert.notEqual(resultCacheKey({ ...input, executor: 'judge0' }), key);
    assert.notEqual(resultCacheKey({ ...input, sourceSha256: 'b'.repeat(64) }), key);
    assert.notEqual(resultCacheKey({ ...input, testSetVersion: 'v2' }), key);
    assert.ok(Number.isInteger(GRADER_VERSION) && GRADER_VERSION >= 2, 'bumped with the integer units of this contract');
  });

  it('sends replies only to plain destinations that are not the worker’s own queues', () => {
    assert.equal(replyDestination('/queue/site-replies', own), '/queue/site-replies');
    const temporary = '/remote-temp-queue/ID:host-41233-1700000000000-1:1:1';
    assert.equal(replyDestination(temporary, own), temporary);
    assert.equal(replyDestination('/temp-queue/replies', own), '/temp-queue/replies');
    assert.equal(replyDestination(undefined, own), undefined);
    assert.equal(replyDestination('/queue/grading-requests', own), undefined, 'a reply there would come back as a request');
    assert.equal(replyDestination('/queue/grading-priority', own), undefined);
    assert.equal(replyDestination('/queue/grading-dlq', own), undefined);
    assert.equal(replyDestination('/queue/grading-results', own), undefined, 'the result is there already');
    assert.equal(replyDestination('queue://site-replies', own), undefined);
    assert.equal(
      replyDestination('/queue/a,/queue/b', own),
      undefined,
      'one destination only (ActiveMQ composite destinations are refused)',
    );
    assert.equal(replyDestination('/queue/bad\nheader', own), undefined);
  });
});
