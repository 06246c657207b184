/**
 * A problem's test cases: `{n}.in` / `{n}.out` for n = 1..N and an optional manifest.json
 * (checker, per-case score, subtasks, limit overrides, per-language limits, which cases are public
 * samples), plus the files a testlib checker needs (its source and headers such as testlib.h).
 * Built from a name -> content map, so the local folder reader and the S3 loader share every rule.
 * docs/problem-format.md describes the format; docs/contracts/manifest.schema.json is `manifestSchema`.
 */
import { createHash } from 'node:crypto';
import type { CheckerSpec } from '../grading/checkers';
import { validatorFor } from '../../../core/src/contracts/validator';
import { LANGUAGE_IDS, Language } from '../../../core/src/languages';

export interface TestCase {
  index: number;
  input: string;
  expected: string;
  weight: number;
  /** A public sample: its checker message (which quotes expected and actual output) may be shown. */
  sample: boolean;
}

/** A checker program in the testlib convention (Codeforces/Polygon): `checker <input> <output> <answer>`. */
export interface TestlibCheckerSpec {
  type: 'testlib';
  /** File beside the tests: checker.cpp (C++17) or checker.py (Python 3). */
  source: string;
}

export interface SubtaskSpec {
  name: string;
  /** Case numbers: "1-5", "1,3,7-9", or an array of numbers. */
  cases: string | number[];
  points: number;
  /** Subtasks that must get full points for this one to score. */
  dependencies?: string[];
  /** Overrides the manifest's `scoring` for this subtask. */
  scoring?: SubtaskScoring;
}

/** `all`: full points only if every case is accepted (IOI batch); `min`: points x the lowest case fraction. */
export type SubtaskScoring = 'all' | 'min';

export interface LanguageLimitSpec {
  /** Multiplies the problem's (or the request's) time limit for this language. */
  timeMultiplier?: number;
  /** ms; replaces the time limit for this language (the multiplier does not apply on top). */
  timeLimit?: number;
  /** MB; replaces the memory limit for this language. */
  memoryLimit?: number;
}

export interface Manifest {
  checker?: CheckerSpec | TestlibCheckerSpec;
  /** Interactive problems: the program talking to the submission (testlib interactor convention). */
  interactor?: { source: string };
  subtasks?: SubtaskSpec[];
  scoring?: SubtaskScoring;
  languageLimits?: Partial<Record<Language, LanguageLimitSpec>>;
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

/** A testlib checker with the files it compiles from. */
export interface CheckerProgram {
  language: 'cpp' | 'python';
  /** The source file's name and every header file of the problem folder (e.g. testlib.h). */
  files: Map<string, string>;
  sourceFile: string;
}

export interface Subtask {
  name: string;
  cases: number[];
  points: number;
  dependencies: string[];
  scoring: SubtaskScoring;
}

export interface TestSet {
  cases: TestCase[];
  /** The comparison when no checker program is given (and its fallback description). */
  checker: CheckerSpec;
  /** Set when the manifest names a testlib checker: it decides every case instead of `checker`. */
  checkerProgram?: CheckerProgram;
  /** Set for interactive problems: the interactor decides every case (no output comparison). */
  interactorProgram?: CheckerProgram;
  subtasks?: Subtask[];
  languageLimits?: Partial<Record<Language, LanguageLimitSpec>>;
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

const SUBTASK_NAME = '^[A-Za-z0-9_-]{1,40}$';
const languageLimitSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    timeMultiplier: { type: 'number', minimum: 0.1, maximum: 10 },
    timeLimit: { type: 'integer', minimum: 100, maximum: 20000 },
    memoryLimit: { type: 'integer', minimum: 16, maximum: 1024 },
  },
} as const;

export const manifestSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://grading-stack/schemas/manifest.json',
  title: 'Problem manifest (problems/{id}/testcases/manifest.json); see docs/problem-format.md',
  type: 'object',
  additionalProperties: false,
  properties: {
    checker: {
      oneOf: [
        {
          type: 'object',
          required: ['type'],
          additionalProperties: false,
          properties: {
            type: { enum: ['exact', 'whitespace', 'token', 'float'] },
            absoluteError: { type: 'number', exclusiveMinimum: 0 },
            relativeError: { type: 'number', exclusiveMinimum: 0 },
          },
        },
        {
          type: 'object',
          required: ['type', 'source'],
          additionalProperties: false,
          properties: {
            type: { const: 'testlib' },
            source: { type: 'string', pattern: '^[A-Za-z0-9_-]+\\.(cpp|py)$', description: 'checker file beside the tests' },
          },
        },
      ],
    },
    interactor: {
      type: 'object',
      required: ['source'],
      additionalProperties: false,
      properties: { source: { type: 'string', pattern: '^[A-Za-z0-9_-]+\\.(cpp|py)$', description: 'interactor file beside the tests' } },
    },
    subtasks: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['name', 'cases', 'points'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', pattern: SUBTASK_NAME },
          cases: {
            oneOf: [
              { type: 'string', pattern: '^ *[1-9][0-9]*( *- *[1-9][0-9]*)?( *, *[1-9][0-9]*( *- *[1-9][0-9]*)?)* *$' },
              { type: 'array', minItems: 1, items: { type: 'integer', minimum: 1 }, uniqueItems: true },
            ],
          },
          points: { type: 'number', minimum: 0 },
          dependencies: { type: 'array', items: { type: 'string', pattern: SUBTASK_NAME }, uniqueItems: true },
          scoring: { enum: ['all', 'min'] },
        },
      },
    },
    scoring: { enum: ['all', 'min'] },
    languageLimits: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(LANGUAGE_IDS.map((id) => [id, languageLimitSchema])),
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
/** Files beside the tests a checker program may be built from. */
const CHECKER_FILE = /^[A-Za-z0-9_-]+\.(cpp|py|h|hpp)$/;

/** Whether a file of a problem's test folder belongs to its test set (both loaders use this). */
export function isTestSetFile(name: string): boolean {
  return /^\d+\.(in|out)$/.test(name) || name === 'manifest.json' || CHECKER_FILE.test(name);
}

/** "1-5,8" -> [1, 2, 3, 4, 5, 8]. */
export function parseCaseList(cases: string | number[]): number[] {
  if (Array.isArray(cases)) return [...cases];
  const out: number[] = [];
  for (const part of cases.split(',')) {
    const [from, to = from] = part.split('-').map((x) => Number(x.trim()));
    for (let n = from; n <= to && out.length <= 100_000; n++) out.push(n);
  }
  return out;
}

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
  const checkerProgram = checkerProgramOf(manifest, files, problems);
  const interactorProgram = manifest.interactor ? programOf('interactor', manifest.interactor.source, files, problems) : undefined;
  if (manifest.interactor && manifest.checker)
    problems.push('manifest.json gives both interactor and checker: the interactor decides interactive cases');
  const subtasks = subtasksOf(manifest, inputs, problems);
  if (problems.length) throw new TestSetError([...new Set(problems)]);
  const samples = new Set(manifest.samples ?? []);

  return {
    cases: numbers.map((n) => ({
      index: n,
      input: inputs.get(n)!,
      expected: outputs.get(n)!,
      weight: manifest.scores?.[String(n)] ?? 1,
      sample: samples.has(n),
    })),
    checker: manifest.checker && manifest.checker.type !== 'testlib' ? manifest.checker : { type: 'whitespace' },
    ...(checkerProgram ? { checkerProgram } : {}),
    ...(interactorProgram ? { interactorProgram } : {}),
    ...(subtasks ? { subtasks } : {}),
    ...(manifest.languageLimits ? { languageLimits: manifest.languageLimits } : {}),
    timeLimitMs: manifest.timeLimit,
    memoryLimitMb: manifest.memoryLimit,
    outputLimitBytes: manifest.outputLimit,
    version: version ?? contentVersion(files),
  };
}

function checkerProgramOf(manifest: Manifest, files: Map<string, string>, problems: string[]): CheckerProgram | undefined {
  const spec = manifest.checker;
  if (spec?.type !== 'testlib') return undefined;
  return programOf('checker', spec.source, files, problems);
}

function programOf(role: string, source: string, files: Map<string, string>, problems: string[]): CheckerProgram | undefined {
  if (!files.has(source)) {
    problems.push(`manifest.json ${role}.source ${source} is not beside the tests`);
    return undefined;
  }
  const program = new Map<string, string>([[source, files.get(source)!]]);
  for (const [name, content] of files) if (/\.(h|hpp)$/.test(name)) program.set(name, content);
  return { language: source.endsWith('.py') ? 'python' : 'cpp', files: program, sourceFile: source };
}

function subtasksOf(manifest: Manifest, inputs: Map<number, string>, problems: string[]): Subtask[] | undefined {
  if (!manifest.subtasks) return undefined;
  if (manifest.scores) problems.push('manifest.json gives both scores and subtasks: points come from subtasks, drop scores');
  const names = new Set<string>();
  const covered = new Set<number>();
  const subtasks = manifest.subtasks.map((spec) => {
    if (names.has(spec.name)) problems.push(`manifest.json subtask "${spec.name}" is defined twice`);
    for (const dep of spec.dependencies ?? []) {
      if (!names.has(dep)) problems.push(`manifest.json subtask "${spec.name}" depends on "${dep}", which is not defined before it`);
    }
    names.add(spec.name);
    const cases = parseCaseList(spec.cases);
    if (!cases.length) problems.push(`manifest.json subtask "${spec.name}" names no cases ("${spec.cases}": a range runs low-high)`);
    for (const n of cases) {
      if (!inputs.has(n)) problems.push(`manifest.json subtask "${spec.name}" names case ${n}, which does not exist`);
      covered.add(n);
    }
    return {
      name: spec.name,
      cases,
      points: spec.points,
      dependencies: spec.dependencies ?? [],
      scoring: spec.scoring ?? manifest.scoring ?? 'all',
    };
  });
  const uncovered = [...inputs.keys()].filter((n) => !covered.has(n)).sort((a, b) => a - b);
  if (uncovered.length) problems.push(`manifest.json subtasks: no subtask covers case(s) ${uncovered.join(', ')}`);
  if (subtasks.every((s) => s.points === 0)) problems.push('manifest.json subtasks give no points');
  return subtasks;
}

function contentVersion(files: Map<string, string>): string {
  const hash = createHash('sha256');
  for (const name of [...files.keys()].sort()) hash.update(name).update('\0').update(files.get(name)!).update('\0');
  return hash.digest('hex');
}

/**
 * Built test sets kept in memory, so a message for a known version neither reads files nor checks
 * the manifest again. Bounded by the text it holds (inputs, outputs, checker files); the least
 * recently used sets go first. Sets are frozen: every grading shares the same objects.
 */
export class TestSetCache {
  private readonly entries = new Map<string, { set: TestSet; bytes: number }>();
  private held = 0;

  constructor(readonly maxBytes: number) {}

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.held;
  }

  get(key: string): TestSet | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    // Map order is insertion order: re-inserting marks it most recently used.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.set;
  }

  /** Keeps `set` under `key` unless it alone is larger than the bound; returns the (frozen) set. */
  set(key: string, set: TestSet): TestSet {
    const frozen = freezeTestSet(set);
    const bytes = testSetBytes(frozen);
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.held -= old.bytes;
    }
    if (bytes > this.maxBytes) return frozen;
    this.entries.set(key, { set: frozen, bytes });
    this.held += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.held <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.held -= entry.bytes;
    }
    return frozen;
  }
}

/** Approximate memory of a set's text: two bytes a character (V8 keeps one-byte strings smaller). */
export function testSetBytes(set: TestSet): number {
  let chars = 0;
  for (const c of set.cases) chars += c.input.length + c.expected.length + 64;
  for (const program of [set.checkerProgram, set.interactorProgram]) {
    for (const content of program?.files.values() ?? []) chars += content.length;
  }
  return chars * 2;
}

function freezeTestSet(set: TestSet): TestSet {
  for (const c of set.cases) Object.freeze(c);
  Object.freeze(set.cases);
  for (const s of set.subtasks ?? []) Object.freeze(s);
  return Object.freeze(set);
}
