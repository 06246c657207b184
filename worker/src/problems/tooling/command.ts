/**
 * `grading-stack problem <validate|verify|push> DIR`: the problem author's tools (validate.ts,
 * verify.ts, push.ts). Exit codes: 0 all good, 1 a problem is invalid / a verdict differs / the upload
 * failed, 2 usage error.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { createSandboxExecutor, SandboxUnavailableError } from '../../executors/sandbox';
import type { Executor } from '../../executors/port';
import type { CheckerHost } from '../../grading/programChecker';
import { DEFAULT_KEEP_VERSIONS, pushProblems } from './push';
import { formatReports, validateProblems } from './validate';
import { formatVerify, verifyProblems } from './verify';

export const PROBLEM_USAGE = `usage: grading-stack problem validate DIR
       grading-stack problem verify DIR
       grading-stack problem push DIR --bucket B [--keep N] [--endpoint URL] [--region R]

  DIR is one problem folder (testcases/ or 1.in, 1.out, ...) or a folder of them; every problem is
  checked at once. docs/problem-format.md describes the format.

  validate  cases paired and numbered 1..N, manifest.json against docs/contracts/manifest.schema.json,
            subtasks covering every case, the checker compiling (local sandbox: run as root), and
            reference solution names in solutions/
  verify    validate, then grade every solutions/<verdict>.<ext> (ac.cpp, wa.py, tle-naive.py, ...)
            in the local sandbox; exits 1 when a verdict differs from the name
  push      validate, then upload each problem as a new test-set version and switch to it with one
            write (problems/<id>/testcases/current.json); nothing is uploaded if any problem is invalid.
            --keep N keeps the N most recent versions of each problem (default ${DEFAULT_KEEP_VERSIONS}, never
            the live one) and deletes older ones from versions/.
            Credentials come from the usual AWS chain (AWS_PROFILE, AWS_ACCESS_KEY_ID, ...).
            --endpoint for an S3-compatible server (path-style), --region (default AWS_REGION or us-east-1)`;

export class ProblemUsageError extends Error {}

interface ProblemArgs {
  action: 'validate' | 'verify' | 'push';
  dir: string;
  flags: Map<string, string>;
}

const FLAGS: Record<ProblemArgs['action'], string[]> = { validate: [], verify: [], push: ['bucket', 'keep', 'endpoint', 'region'] };

export function parseProblemArgs(argv: string[]): ProblemArgs {
  const [action, ...rest] = argv;
  if (action !== 'validate' && action !== 'verify' && action !== 'push') {
    throw new ProblemUsageError(action ? `unknown problem command "${action}"` : 'no problem command given');
  }
  const errors: string[] = [];
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const name = arg.slice(2);
    if (!FLAGS[action].includes(name)) errors.push(`unknown option ${arg} for problem ${action}`);
    else if (i + 1 >= rest.length) errors.push(`${arg} needs a value`);
    else flags.set(name, rest[++i]);
  }
  if (positional.length !== 1) errors.push(`problem ${action} takes one DIR (got ${positional.length})`);
  if (action === 'push' && !flags.get('bucket')) errors.push('--bucket is required');
  const keep = flags.get('keep');
  if (keep !== undefined && !/^[1-9]\d{0,3}$/.test(keep)) errors.push(`--keep must be a whole number of versions from 1 (got "${keep}")`);
  if (errors.length) throw new ProblemUsageError(errors.join('\n'));
  return { action, dir: positional[0], flags };
}

/** The local sandbox, or undefined (with the reason on stderr) where it cannot run. */
async function sandboxOrNothing(): Promise<(Executor & CheckerHost) | undefined> {
  try {
    return await createSandboxExecutor();
  } catch (error) {
    if (!(error instanceof SandboxUnavailableError)) throw error;
    process.stderr.write(`note: ${error.message}\n`);
    return undefined;
  }
}

export async function problemCommand(argv: string[]): Promise<number> {
  const args = parseProblemArgs(argv);
  if (args.action === 'verify') {
    const executor = await createSandboxExecutor();
    try {
      const outcome = await verifyProblems(args.dir, executor);
      process.stdout.write(formatVerify(outcome));
      return outcome.invalid.length || outcome.lines.some((l) => !l.ok) ? 1 : 0;
    } finally {
      await executor.close();
    }
  }
  const sandbox = await sandboxOrNothing();
  try {
    const reports = await validateProblems(args.dir, sandbox);
    process.stdout.write(formatReports(reports));
    if (reports.some((r) => r.errors.length)) return 1;
    if (args.action === 'validate') return 0;
    const endpoint = args.flags.get('endpoint');
    const region = args.flags.get('region') ?? process.env.AWS_REGION ?? 'us-east-1';
    const client = new S3Client({ region, ...(endpoint ? { endpoint, forcePathStyle: true } : {}) });
    try {
      const keep = Number(args.flags.get('keep') ?? DEFAULT_KEEP_VERSIONS);
      for (const p of await pushProblems(reports, client, args.flags.get('bucket')!, keep)) {
        process.stdout.write(`${p.problem}: pushed version ${p.version} (${p.files} files), live\n`);
        if (p.removed.length) process.stdout.write(`${p.problem}: removed ${p.removed.length} older version(s): ${p.removed.join(', ')}\n`);
      }
    } finally {
      client.destroy();
    }
    return 0;
  } finally {
    await sandbox?.close();
  }
}
