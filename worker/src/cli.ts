/**
 * grading-stack CLI. `grade` grades one submission against a local problem folder with the local
 * sandbox and prints the result document the worker would publish, plus the checker's message on
 * every case (the worker publishes those for sample cases only), so problem authors can check
 * their test cases and reference solutions.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { validateGradingResult } from './contracts/result';
import { createSandboxExecutor } from './executors/sandbox';
import { gradeSubmission } from './grading/engine';
import { isLanguage, LANGUAGE_IDS, LANGUAGES, Language } from './languages';
import { readTestSetFromFolder } from './problems/localFolder';
import { PROBLEM_USAGE, problemCommand, ProblemUsageError } from './problems/tooling/command';
import { isVerdict } from './problems/tooling/folders';

const USAGE = `usage: grading-stack grade --problem <dir> --language <${LANGUAGE_IDS.join('|')}> --source <file> [--time-limit ms] [--memory-limit MB] [--expect VERDICT] [--log]

  --problem       folder with 1.in, 1.out, 2.in, ... (or a testcases/ subfolder) and optional manifest.json
  --language      language of the source; inferred from the file extension when omitted
  --time-limit    per test case, ms (default 2000)
  --memory-limit  MB (default 256)
  --expect        exit 1 unless the verdict is this one (AC, WA, TLE, MLE, RE, CE, OLE, IE)
  --log           also print execution.log to stderr

${PROBLEM_USAGE}`;

class UsageError extends Error {}

interface GradeArgs {
  problem: string;
  language: Language;
  source: string;
  timeLimit: number;
  memoryLimit: number;
  log: boolean;
  expect?: string;
}

export function parseGradeArgs(argv: string[]): GradeArgs {
  const values = new Map<string, string>();
  let log = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--log') {
      log = true;
      continue;
    }
    if (!arg.startsWith('--') || i + 1 >= argv.length) throw new UsageError(`unexpected argument "${arg}"`);
    values.set(arg.slice(2), argv[++i]);
  }
  const known = new Set(['problem', 'language', 'source', 'time-limit', 'memory-limit', 'expect']);
  const problems: string[] = [...values.keys()].filter((k) => !known.has(k)).map((k) => `unknown option --${k}`);
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
  const expect = values.get('expect')?.toUpperCase();
  if (expect !== undefined && !isVerdict(expect)) problems.push(`--expect must be a verdict (AC, WA, TLE, MLE, RE, CE, OLE, IE), got "${values.get('expect')}"`);
  if (problems.length) throw new UsageError(problems.join('\n'));
  return { problem: problem!, language: language as Language, source: source!, timeLimit, memoryLimit, log, ...(expect ? { expect } : {}) };
}

async function grade(argv: string[]): Promise<number> {
  const args = parseGradeArgs(argv);
  const [source, testSet] = await Promise.all([fsp.readFile(args.source, 'utf8'), readTestSetFromFolder(args.problem)]);
  const executor = await createSandboxExecutor();
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

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === '--help' || command === '-h' || command === 'help' || rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (command === 'grade') return await grade(rest);
    if (command === 'problem') return await problemCommand(rest);
    throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
  } catch (error) {
    if (error instanceof UsageError || error instanceof ProblemUsageError) {
      process.stderr.write(`${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`grading-stack: ${(error as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
