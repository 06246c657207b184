/**
 * A problem's test cases: `{n}.in` / `{n}.out` for n = 1..N and an optional manifest.json
 * (checker, per-case score, limit overrides, which cases are public samples). Built from a name -> content map, so the local folder
 * reader and the S3 loader share every rule.
 */
import { createHash } from 'node:crypto';
import type { CheckerSpec } from '../grading/checkers';
import { validatorFor } from '../contracts/validator';

export interface TestCase {
  index: number;
  input: string;
  expected: string;
  weight: number;
  /** A public sample: its checker message (which quotes expected and actual output) may be shown. */
  sample: boolean;
}

export interface Manifest {
  checker?: CheckerSpec;
  /** Weight per case number ("1": 10, ...); cases not listed weigh 1. */
  scores?: Record<string, number>;
  /** Overrides of the request's limits for this problem. */
  timeLimit?: number;
  memoryLimit?: number;
  outputLimit?: number;
  /**
   * Case numbers that are public samples (usually the examples in the statement). Only their
   * per-case messages reach results; every other case's input and output stay hidden.
   */
  samples?: number[];
}

export interface TestSet {
  cases: TestCase[];
  checker: CheckerSpec;
  timeLimitMs?: number;
  memoryLimitMb?: number;
  outputLimitBytes?: number;
  /** Changes whenever any test file changes: part of the result cache key. */
  version: string;
}

export class TestSetError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid test case set: ${problems.join('; ')}`);
    this.name = 'TestSetError';
  }
}

const manifestSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    checker: {
      type: 'object',
      required: ['type'],
      additionalProperties: false,
      properties: {
        type: { enum: ['exact', 'whitespace', 'token', 'float'] },
        absoluteError: { type: 'number', exclusiveMinimum: 0 },
        relativeError: { type: 'number', exclusiveMinimum: 0 },
      },
    },
    scores: { type: 'object', patternProperties: { '^[1-9][0-9]*$': { type: 'number', minimum: 0 } }, additionalProperties: false },
    timeLimit: { type: 'integer', minimum: 100, maximum: 20000 },
    memoryLimit: { type: 'integer', minimum: 16, maximum: 1024 },
    outputLimit: { type: 'integer', minimum: 1, maximum: 64 * 1024 * 1024 },
    samples: { type: 'array', items: { type: 'integer', minimum: 1 }, uniqueItems: true },
  },
} as const;
const validateManifest = validatorFor<Manifest>(manifestSchema);

const CASE_FILE = /^([1-9][0-9]*)\.(in|out)$/;

/** `files`: base name -> content. `version`: identifies the file set (ETags); defaults to a content hash. */
export function buildTestSet(files: Map<string, string>, version?: string): TestSet {
  const problems: string[] = [];
  const inputs = new Map<number, string>();
  const outputs = new Map<number, string>();
  for (const [name, content] of files) {
    const match = CASE_FILE.exec(name);
    if (match) (match[2] === 'in' ? inputs : outputs).set(Number(match[1]), content);
  }
  let manifest: Manifest = {};
  if (files.has('manifest.json')) {
    try {
      const checked = validateManifest(JSON.parse(files.get('manifest.json')!));
      if (checked.ok) manifest = checked.value;
      else problems.push(...checked.errors.map((e) => `manifest.json ${e}`));
    } catch (error) {
      problems.push(`manifest.json is not JSON: ${(error as Error).message}`);
    }
  }
  const numbers = [...new Set([...inputs.keys(), ...outputs.keys()])].sort((a, b) => a - b);
  if (numbers.length === 0) problems.push('no test cases (expected 1.in and 1.out, 2.in and 2.out, ...)');
  numbers.forEach((n, i) => {
    if (n !== i + 1) problems.push(`case numbers must run 1..N without gaps: case ${i + 1} is missing`);
    if (!inputs.has(n)) problems.push(`${n}.out has no ${n}.in`);
    if (!outputs.has(n)) problems.push(`${n}.in has no ${n}.out`);
  });
  for (const key of Object.keys(manifest.scores ?? {})) {
    if (!inputs.has(Number(key))) problems.push(`manifest.json scores case ${key}, which does not exist`);
  }
  for (const n of manifest.samples ?? []) {
    if (!inputs.has(n)) problems.push(`manifest.json samples case ${n}, which does not exist`);
  }
  if (problems.length) throw new TestSetError([...new Set(problems)]);
  const samples = new Set(manifest.samples ?? []);

  return {
    cases: numbers.map((n) => ({ index: n, input: inputs.get(n)!, expected: outputs.get(n)!, weight: manifest.scores?.[String(n)] ?? 1, sample: samples.has(n) })),
    checker: manifest.checker ?? { type: 'whitespace' },
    timeLimitMs: manifest.timeLimit,
    memoryLimitMb: manifest.memoryLimit,
    outputLimitBytes: manifest.outputLimit,
    version: version ?? contentVersion(files),
  };
}

function contentVersion(files: Map<string, string>): string {
  const hash = createHash('sha256');
  for (const name of [...files.keys()].sort()) hash.update(name).update('\0').update(files.get(name)!).update('\0');
  return hash.digest('hex');
}
