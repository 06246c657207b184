import assert from 'node:assert/strict';
import { parseProgressMessage } from '../../web/src/progressItems';

const result = {
  requestId: 'req_1',
  status: 'completed',
  result: { verdict: 'AC', score: 100, executionTime: 5, memoryUsage: 2, testResults: [{ case: 1, status: 'AC', time: 5, memory: 2 }] },
  timestamp: '2026-01-01T00:00:00Z',
};

describe('web progress topic messages', () => {
  it('turns a case event into a test result with the total', () => {
    const item = parseProgressMessage(
      JSON.stringify({ type: 'case', requestId: 'req_1', case: 2, total: 4, status: 'WA', time: 12, memory: 4 }),
    );
    assert.deepEqual(item, { kind: 'case', requestId: 'req_1', testResult: { case: 2, status: 'WA', time: 12, memory: 4 }, totalCases: 4 });
  });

  it('turns a final event into the result document', () => {
    assert.deepEqual(parseProgressMessage(JSON.stringify({ type: 'final', requestId: 'req_1', result })), {
      kind: 'final',
      requestId: 'req_1',
      result,
    });
  });

  it('tells a run event (not about a grading) from a message that breaks the contract', () => {
    const run = {
      runId: 'run_1',
      status: 'OK',
      stdout: '',
      stdoutBytes: 0,
      stdoutTruncated: false,
      stderr: '',
      exitCode: 0,
      time: 1,
      memory: 1,
      timestamp: '2026-01-01T00:00:00Z',
    };
    assert.equal(parseProgressMessage(JSON.stringify({ type: 'run', runId: 'run_1', result: run })), null);
    assert.equal(parseProgressMessage(JSON.stringify({ type: 'run', runId: 'run_1', result: { ...run, status: 'AC' } })), undefined);
  });

  it('ignores anything that does not match the contract', () => {
    for (const body of [
      'not json',
      '{}',
      JSON.stringify({ type: 'case', requestId: 'req_1', case: 0, total: 1, status: 'AC', time: 1, memory: 1 }),
      JSON.stringify({ type: 'final', requestId: 'req_1', result: { ...result, status: 'done' } }),
    ]) {
      assert.equal(parseProgressMessage(body), undefined, body);
    }
  });
});
