import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  FAILURE_REASONS,
  parseGradingRequest,
  readableRequestId,
  validateGradingResult,
  validateProgressEvent,
} from '../../core/src/contracts';
import { CONTRACT_SCHEMAS, schemaFileText } from '../../scripts/contractSchemas';
import { CONTRACTS_DIR, publishedValidators } from '../interop/contractSchemas';

// The request and result examples of the original architecture document, verbatim.
const REQUEST = {
  requestId: 'req_123456789',
  userId: 'user_001',
  problemId: 'prob_001',
  language: 'python',
  sourceFile: 's3://bucket/submissions/req_123456789/solution.py',
  testCases: 's3://bucket/problems/prob_001/testcases/',
  timeLimit: 5000,
  memoryLimit: 256,
  timestamp: '2024-08-20T12:00:00Z',
};
const RESULT = {
  requestId: 'req_123456789',
  status: 'completed',
  result: {
    verdict: 'AC',
    score: 100,
    executionTime: 1250,
    memoryUsage: 128,
    testResults: [
      { case: 1, status: 'AC', time: 250, memory: 64 },
      { case: 2, status: 'AC', time: 300, memory: 72 },
    ],
  },
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
    assert.deepEqual(
      parsed.errors.sort(),
      [
        'extra: is not a known field',
        'language: "cobol" is not one of python, javascript, c, cpp, java, go, rust',
        'timeLimit: must be integer (got "5000")',
        'timestamp: is required',
      ].sort(),
    );
  });

  it('reports bad JSON as such', () => {
    const parsed = parseGradingRequest('{"requestId": ');
    assert.equal(parsed.ok, false);
    if (!parsed.ok) assert.equal(parsed.reason, 'invalid-json');
  });

  it('requires a reason code and words on a failed result, and a result on a completed one', () => {
    assert.equal(validateGradingResult({ requestId: 'r', status: 'failed', timestamp: RESULT.timestamp }).ok, false);
    assert.equal(
      validateGradingResult({ requestId: 'r', status: 'failed', error: 'S3 unavailable', timestamp: RESULT.timestamp }).ok,
      false,
      'reason is required',
    );
    assert.equal(
      validateGradingResult({
        requestId: 'r',
        status: 'failed',
        reason: 'transient-failure-exhausted',
        error: 'transient-failure-exhausted: S3 unavailable',
        timestamp: RESULT.timestamp,
      }).ok,
      true,
    );
    assert.equal(
      validateGradingResult({ requestId: 'r', status: 'failed', reason: 'oops', error: 'x', timestamp: RESULT.timestamp }).ok,
      false,
      'reason is one of the codes',
    );
    assert.equal(validateGradingResult({ requestId: 'r', status: 'completed', timestamp: RESULT.timestamp }).ok, false);
    const badVerdict = structuredClone(RESULT);
    badVerdict.result.verdict = 'OK';
    assert.equal(validateGradingResult(badVerdict).ok, false);
  });

  it('types every number as an integer: score 0-100, milliseconds, whole megabytes', () => {
    for (const [field, value] of [
      ['score', 66.67],
      ['memoryUsage', 7.3],
      ['executionTime', 12.5],
    ] as const) {
      const bad = structuredClone(RESULT) as unknown as { result: Record<string, unknown> };
      bad.result[field] = value;
      const checked = validateGradingResult(bad);
      assert.equal(checked.ok, false, field);
      if (!checked.ok) assert.match(checked.errors.join(), new RegExp(`result.${field}: must be integer`));
    }
    const badCase = structuredClone(RESULT);
    badCase.result.testResults[0].memory = 0.5;
    assert.equal(validateGradingResult(badCase).ok, false);
    assert.equal(validateProgressEvent({ type: 'case', requestId: 'r', case: 1, total: 2, status: 'AC', time: 1, memory: 2.5 }).ok, false);
    assert.equal(validateProgressEvent({ type: 'case', requestId: 'r', case: 1, total: 2, status: 'XX', time: 1, memory: 2 }).ok, false);
  });

  it('reads the requestId of an invalid message when there is exactly one well-formed one', () => {
    assert.equal(readableRequestId(JSON.stringify({ requestId: 'req_a1', language: 'cobol' })), 'req_a1');
    assert.equal(readableRequestId('{"requestId": "req_b2", "userId": '), 'req_b2', 'from broken JSON');
    assert.equal(readableRequestId('{not json'), undefined);
    assert.equal(readableRequestId(JSON.stringify({ requestId: 42 })), undefined);
    assert.equal(readableRequestId(JSON.stringify({ requestId: 'has space' })), undefined, 'must match the id pattern');
    assert.equal(readableRequestId('["req_x"]'), undefined);
    assert.equal(readableRequestId('{"requestId":"req_1","requestId":"req_2",'), undefined, 'two ids in a broken body: neither');
  });

  it('publishes under docs/contracts exactly the schemas the worker validates with', () => {
    const files = fs
      .readdirSync(CONTRACTS_DIR)
      .filter((f) => f.endsWith('.schema.json'))
      .sort();
    assert.deepEqual(files, Object.keys(CONTRACT_SCHEMAS).sort());
    for (const [file, schema] of Object.entries(CONTRACT_SCHEMAS)) {
      assert.equal(
        fs.readFileSync(path.join(CONTRACTS_DIR, file), 'utf8'),
        schemaFileText(schema),
        `${file} is stale: run npx tsx scripts/contractSchemas.ts`,
      );
    }
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(CONTRACTS_DIR, 'grading-result.schema.json'), 'utf8')).properties.reason.enum, [
      ...FAILURE_REASONS,
    ]);
  });

  it('documents examples (from a real run) that validate against the published schemas', () => {
    const validators = publishedValidators();
    const dir = path.join(CONTRACTS_DIR, 'examples');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
    const kinds = new Set<string>();
    const prefixes: Record<string, keyof typeof validators> = { 'run-request': 'runRequest', 'run-result': 'runResult' };
    for (const file of files) {
      const kind = (prefixes[file.split('-').slice(0, 2).join('-')] ?? file.split('-')[0]) as keyof typeof validators;
      assert.ok(kind in validators, `${file}: name must start with request-, result-, progress-, run-request- or run-result-`);
      kinds.add(kind);
      const data = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
      for (const item of Array.isArray(data) ? data : [data]) {
        assert.ok(validators[kind](item), `${file}: ${JSON.stringify(validators[kind].errors)}`);
      }
    }
    assert.deepEqual([...kinds].sort(), ['progress', 'request', 'result', 'runRequest', 'runResult']);
    const failed = files
      .filter((f) => f.startsWith('result-'))
      .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')))
      .filter((r) => r.status === 'failed');
    assert.ok(failed.length > 0, 'a failed result is among the examples');
  });
});
