import assert from 'node:assert/strict';
import { parseGradingRequest, validateGradingResult, validateProgressEvent } from '../../worker/src/contracts';

// The examples of ARCHITECTURE.md, verbatim.
const REQUEST = { requestId: 'req_123456789', userId: 'user_001', problemId: 'prob_001', language: 'python', sourceFile: 's3://bucket/submissions/req_123456789/solution.py', testCases: 's3://bucket/problems/prob_001/testcases/', timeLimit: 5000, memoryLimit: 256, timestamp: '2024-08-20T12:00:00Z' };
const RESULT = {
  requestId: 'req_123456789',
  status: 'completed',
  result: { verdict: 'AC', score: 100, executionTime: 1250, memoryUsage: 128, testResults: [{ case: 1, status: 'AC', time: 250, memory: 64 }, { case: 2, status: 'AC', time: 300, memory: 72 }] },
  resultFile: 's3://bucket/results/req_123456789/result.json',
  timestamp: '2024-08-20T12:00:15Z',
};

describe('contracts', () => {
  it('accepts the documented request and result', () => {
    assert.equal(parseGradingRequest(JSON.stringify(REQUEST)).ok, true);
    assert.equal(validateGradingResult(RESULT).ok, true);
    assert.equal(validateProgressEvent({ type: 'final', requestId: 'req_123456789', result: RESULT }).ok, true);
    assert.equal(validateProgressEvent({ type: 'case', requestId: 'r', case: 1, total: 2, status: 'AC', time: 1, memory: 2 }).ok, true);
  });

  it('names every problem in a bad request', () => {
    const { timestamp: _t, ...missing } = REQUEST;
    const parsed = parseGradingRequest(JSON.stringify({ ...missing, language: 'cobol', timeLimit: '5000', extra: 1 }));
    assert.equal(parsed.ok, false);
    if (parsed.ok) return;
    assert.equal(parsed.reason, 'schema');
    assert.deepEqual(parsed.errors.sort(), ['extra: is not a known field', 'language: "cobol" is not one of python, javascript, c, cpp, java', 'timeLimit: must be integer (got "5000")', 'timestamp: is required'].sort());
  });

  it('reports bad JSON as such', () => {
    const parsed = parseGradingRequest('{"requestId": ');
    assert.equal(parsed.ok, false);
    if (!parsed.ok) assert.equal(parsed.reason, 'invalid-json');
  });

  it('requires a reason on a failed result and a result on a completed one', () => {
    assert.equal(validateGradingResult({ requestId: 'r', status: 'failed', timestamp: RESULT.timestamp }).ok, false);
    assert.equal(validateGradingResult({ requestId: 'r', status: 'failed', error: 'S3 unavailable', timestamp: RESULT.timestamp }).ok, true);
    assert.equal(validateGradingResult({ requestId: 'r', status: 'completed', timestamp: RESULT.timestamp }).ok, false);
    const badVerdict = structuredClone(RESULT);
    badVerdict.result.verdict = 'OK';
    assert.equal(validateGradingResult(badVerdict).ok, false);
  });
});
