/**
 * grading-stack CLI.
 * - `grade` grades one submission against a local problem folder, with the local sandbox or through
 *   any Judge0, and prints the result document the worker would publish (problem authors check their
 *   test cases and reference solutions). It prints the checker's message on every case (the worker
 *   publishes those for sample cases only).
 * - `judge0-check` runs the conformance programs through a Judge0 deployment and prints a table of
 *   what came out as expected (operators run it after `pulumi up`); non-zero exit on any failure.
 * The Judge0 token may come from JUDGE0_AUTH_TOKEN instead of the command line (kept out of `ps`).
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { validateGradingResult } from '../../core/src/contracts/result';
import { CHECKS, formatTable, runConformance } from './executors/judge0/conformance';
import { createJudge0Executor } from './executors/judge0';
import type { Executor } from './executors/port';
import { createSandboxExecutor } from './executors/sandbox';
import { gradeSubmission } from './grading/engine';
import { isLanguage, LANGUAGE_IDS, LANGUAGES, Language } from '../../core/src/languages';
import { runDlqCommand } from './ops/dlq';
import { readTestSetFromFolder } from './problems/localFolder';
import { PROBLEM_USAGE, problemCommand, ProblemUsageError } from './problems/tooling/command';
import { isVerdict } from './problems/tooling/folders';

const GRADE_USAGE = `usage: grading-stack grade --problem <dir> --source <file> [--language <${LANGUAGE_IDS.join('|')}>]
                          [--time-limit ms] [--memory-limit MB] [--expect VERDICT] [--log]
                          [--executor sandbox|judge0 --judge0-url URL [--judge0-token T]]

  --problem       folder with 1.in, 1.out, 2.in, ... (or a testcases/ subfolder) and optional manifest.json
  --source        the submission
  --language      language of the source; inferred from the file extension when omitted
  --time-limit    per test case, ms (default 2000)
  --memory-limit  MB (default 256)
  --expect        exit 1 unless the verdict is this one (AC, WA, TLE, MLE, RE, CE, OLE, IE)
  --log           also print execution.log to stderr
  --executor      sandbox (default: the local sandbox, needs root and gcc) or judge0
  --judge0-url    Judge0 base URL, e.g. http://judge0.internal:2358 (with --executor judge0)
  --judge0-token  Judge0 X-Auth-Token (or set JUDGE0_AUTH_TOKEN)`;

const CHECK_USAGE = `usage: grading-stack judge0-check --url URL [--token T] [--languages ${LANGUAGE_IDS.join(',')}]

  Grades small programs through the Judge0 at URL with the worker's adapter: for each language
  ${CHECKS.join(', ')}.
  Prints a table (pass, FAIL, n/a) and the reason for each failure; exits 1 when anything failed.
  --url        Judge0 base URL
  --token      Judge0 X-Auth-Token (or set JUDGE0_AUTH_TOKEN)
  --languages  comma-separated subset (default: all)`;

const USAGE = `usage: grading-stack <command> [options]

commands:
  grade          grade a submission against a problem folder (sandbox or Judge0)
  judge0-check   conformance run against a Judge0 deployment
  dlq            list, show, replay or purge grading-dlq (grading-stack dlq for its help)
  problem        validate, verify or push problem folders (grading-stack problem --help)

grading-stack <command> --help shows a command's options.`;

class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
  }
}

class HelpRequested extends Error {
  constructor(readonly usage: string) {
    super('help');
  }
}

/** --name value pairs and bare flags; unknown names are errors, all reported at once. */
function parseOptions(
  argv: string[],
  valued: string[],
  flags: string[],
  usage: string,
): { values: Map<string, string>; set: Set<string>; problems: string[] } {
  const values = new Map<string, string>();
  const set = new Set<string>();
  const problems: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') throw new HelpRequested(usage);
    const [name, inline] = arg.startsWith('--') ? arg.slice(2).split(/=(.*)/s, 2) : [undefined, undefined];
    if (name === undefined) problems.push(`unexpected argument "${arg}"`);
    else if (flags.includes(name)) set.add(name);
    else if (!valued.includes(name)) problems.push(`unknown option --${name}`);
    else if (inline !== undefined) values.set(name, inline);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) values.set(name, argv[++i]);
    else problems.push(`--${name} needs a value`);
  }
  return { values, set, problems };
}

export interface GradeArgs {
  problem: string;
  language: Language;
  source: string;
  timeLimit: number;
  memoryLimit: number;
  log: boolean;
  executor: 'sandbox' | 'judge0';
  judge0Url?: string;
  judge0Token?: string;
  expect?: string;
}

export function parseGradeArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): GradeArgs {
  const { values, set, problems } = parseOptions(
    argv,
    ['problem', 'language', 'source', 'time-limit', 'memory-limit', 'executor', 'judge0-url', 'judge0-token', 'expect'],
    ['log'],
    GRADE_USAGE,
  );
  const source = values.get('source');
  const problem = values.get('problem');
  if (!problem) problems.push('--problem is required');
  if (!source) problems.push('--source is required');
  let language = values.get('language');
  if (!language && source) language = LANGUAGE_IDS.find((id) => source.endsWith(`.${LANGUAGES[id].extension}`));
  if (!isLanguage(language)) problems.push(`--language must be one of ${LANGUAGE_IDS.join(', ')}${language ? ` (got "${language}")` : ''}`);
  const number = (key: string, fallback: number, min: number, max: number) => {
    const raw = values.get(key);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) problems.push(`--${key} must be an integer ${min}..${max} (got "${raw}")`);
    return n;
  };
  const timeLimit = number('time-limit', 2000, 100, 20000);
  const memoryLimit = number('memory-limit', 256, 16, 1024);
  const executor = values.get('executor') ?? 'sandbox';
  if (executor !== 'sandbox' && executor !== 'judge0') problems.push(`--executor must be sandbox or judge0 (got "${executor}")`);
  const judge0Url = values.get('judge0-url');
  const judge0Token = values.get('judge0-token') ?? env.JUDGE0_AUTH_TOKEN;
  if (executor === 'judge0') {
    if (!judge0Url) problems.push('--judge0-url is required with --executor judge0');
    else if (!isHttpUrl(judge0Url)) problems.push(`--judge0-url must be an http(s) URL (got "${judge0Url}")`);
  } else if (judge0Url || values.has('judge0-token')) {
    problems.push('--judge0-url and --judge0-token need --executor judge0');
  }
  const expect = values.get('expect')?.toUpperCase();
  if (expect !== undefined && !isVerdict(expect))
    problems.push(`--expect must be a verdict (AC, WA, TLE, MLE, RE, CE, OLE, IE), got "${values.get('expect')}"`);
  if (problems.length) throw new UsageError(problems.join('\n'), GRADE_USAGE);
  return {
    problem: problem!,
    language: language as Language,
    source: source!,
    timeLimit,
    memoryLimit,
    log: set.has('log'),
    executor: executor as GradeArgs['executor'],
    judge0Url,
    judge0Token,
    ...(expect ? { expect } : {}),
  };
}

export interface CheckArgs {
  url: string;
  token?: string;
  languages: Language[];
}

export function parseCheckArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): CheckArgs {
  const { values, problems } = parseOptions(argv, ['url', 'token', 'languages'], [], CHECK_USAGE);
  const url = values.get('url');
  if (!url) problems.push('--url is required');
  else if (!isHttpUrl(url)) problems.push(`--url must be an http(s) URL (got "${url}")`);
  const languages = (values.get('languages') ?? LANGUAGE_IDS.join(','))
    .split(',')
    .map((l) => l.trim())
    .filter(Boolean);
  const unknown = languages.filter((l) => !isLanguage(l));
  if (unknown.length) problems.push(`--languages: unknown ${unknown.map((l) => `"${l}"`).join(', ')} (known: ${LANGUAGE_IDS.join(', ')})`);
  if (problems.length) throw new UsageError(problems.join('\n'), CHECK_USAGE);
  return { url: url!, token: values.get('token') ?? env.JUDGE0_AUTH_TOKEN, languages: languages as Language[] };
}

function isHttpUrl(value: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

async function grade(argv: string[]): Promise<number> {
  const args = parseGradeArgs(argv);
  const [source, testSet] = await Promise.all([fsp.readFile(args.source, 'utf8'), readTestSetFromFolder(args.problem)]);
  const executor: Executor =
    args.executor === 'judge0'
      ? await createJudge0Executor({
          baseUrl: args.judge0Url!,
          authToken: args.judge0Token,
          onNotice: (m) => process.stderr.write(`judge0: ${m}\n`),
        })
      : await createSandboxExecutor();
  try {
    const { result, log } = await gradeSubmission({
      request: { requestId: `cli_${Date.now()}`, language: args.language, timeLimit: args.timeLimit, memoryLimit: args.memoryLimit },
      source,
      testSet,
      executor,
      resultFile: `file://${path.resolve(args.source)}.result.json`,
      // The author owns the tests: show what the checker found on every case, not only on samples.
      audience: 'author',
    });
    const valid = validateGradingResult(result);
    if (!valid.ok) throw new Error(`internal: result does not match its schema: ${valid.errors.join('; ')}`);
    if (args.log) process.stderr.write(log);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    const verdict = result.result?.verdict;
    if (args.expect && verdict !== args.expect) {
      process.stderr.write(`grading-stack: verdict ${verdict}, expected ${args.expect}\n`);
      return 1;
    }
    return 0;
  } finally {
    await executor.close();
  }
}

async function judge0Check(argv: string[]): Promise<number> {
  const args = parseCheckArgs(argv);
  const notices: string[] = [];
  const executor = await createJudge0Executor({ baseUrl: args.url, authToken: args.token, onNotice: (m) => notices.push(m) });
  try {
    const offered = executor.languages();
    process.stdout.write(`Judge0 at ${args.url}\n`);
    for (const language of args.languages) {
      const l = offered.find((o) => o.id === language);
      process.stdout.write(
        `  ${language.padEnd(10)} ${l ? `${l.name} (id ${executor.resolved(language)!.id}${executor.resolved(language)!.multiFile ? ', run as a multi-file program with memory flags' : ''})` : 'not offered'}\n`,
      );
    }
    for (const notice of notices) process.stdout.write(`  note: ${notice}\n`);
    process.stdout.write('\n');
    const outcomes = await runConformance(executor, args.languages);
    process.stdout.write(`${formatTable(outcomes, args.languages)}\n`);
    const failures = outcomes.filter((o) => o.result === 'FAIL');
    for (const f of failures) process.stdout.write(`FAIL ${f.language} ${f.check}: ${f.detail}\n`);
    process.stdout.write(failures.length ? `\n${failures.length} check(s) failed\n` : '\nall checks passed\n');
    return failures.length ? 1 : 0;
  } finally {
    await executor.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'grade') return await grade(rest);
    if (command === 'judge0-check') return await judge0Check(rest);
    if (command === 'dlq') return await runDlqCommand(rest);
    if (command === 'problem') {
      if (rest.includes('--help') || rest.includes('-h')) throw new HelpRequested(PROBLEM_USAGE);
      return await problemCommand(rest);
    }
    if (command === '--help' || command === '-h' || command === 'help') throw new HelpRequested(USAGE);
    throw new UsageError(command ? `unknown command "${command}"` : 'no command given', USAGE);
  } catch (error) {
    if (error instanceof HelpRequested) {
      process.stdout.write(`${error.usage}\n`);
      return 0;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n${error.usage}\n`);
      return 2;
    }
    if (error instanceof ProblemUsageError) {
      process.stderr.write(`${error.message}\n\n${PROBLEM_USAGE}\n`);
      return 2;
    }
    process.stderr.write(`grading-stack: ${(error as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
