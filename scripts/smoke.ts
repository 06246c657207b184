/**
 * Post-deploy smoke test: grades one submission through the gateway's public HTTP API, nothing else
 * (no AWS credentials, no broker or database access), and says which step failed.
 *
 *   npx tsx scripts/smoke.ts --url "$(pulumi stack output url)"
 *   options: --problem ID (default sum), --language L (default python), --source FILE (default
 *            examples/solutions/<problem>/accepted.<ext>), --expect VERDICT (default AC),
 *            --token T or SMOKE_TOKEN (a bearer token the gateway accepts: the user comes from it),
 *            --timeout SECONDS (default 300).
 * Exit status 0 when the submission is graded with the expected verdict, 1 otherwise.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const EXTENSIONS: Record<string, string> = { python: 'py', c: 'c', cpp: 'cpp', java: 'java', javascript: 'js' };

export interface SmokeOptions {
  url: string;
  problem: string;
  language: string;
  sourceCode: string;
  expect: string;
  token?: string;
  timeoutMs: number;
  /** First wait between status polls; doubles up to 5 s. */
  pollMs?: number;
  log?: (line: string) => void;
}

export interface SmokeOutcome {
  ok: boolean;
  requestId?: string;
  verdict?: string;
  /** What went wrong, naming the step. */
  problem?: string;
}

class StepError extends Error {}

/** Runs the smoke test; never throws (a failure is an outcome with `problem`). */
export async function runSmoke(o: SmokeOptions): Promise<SmokeOutcome> {
  const log = o.log ?? ((line: string) => console.log(line));
  const base = o.url.replace(/\/+$/, '');
  const headers: Record<string, string> = { accept: 'application/json', ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) };
  const call = async (step: string, pathname: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> => {
    let response: Response;
    try {
      response = await fetch(`${base}${pathname}`, {
        ...init,
        headers: { ...headers, ...(init.headers as Record<string, string> | undefined) },
        redirect: 'follow',
      });
    } catch (error) {
      throw new StepError(`${step}: cannot reach ${base}${pathname} (${(error as Error).cause ?? (error as Error).message})`);
    }
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text for the message
    }
    return { status: response.status, body };
  };
  const describe = (body: unknown) => (typeof body === 'string' ? body.slice(0, 300) : JSON.stringify(body).slice(0, 300));

  let requestId: string | undefined;
  try {
    const health = await call('health', '/health');
    log(`health: ${health.status} ${describe(health.body)}`);

    const problems = await call('problems', '/api/problems');
    if (problems.status !== 200) throw new StepError(`problems: GET /api/problems answered ${problems.status}: ${describe(problems.body)}`);
    const ids = ((problems.body as { problems?: Array<{ id?: string }> }).problems ?? []).map((p) => p.id);
    if (!ids.includes(o.problem))
      throw new StepError(
        `problems: "${o.problem}" is not in the bucket (found: ${ids.join(', ') || 'none'}); load the problems first (docs/deploy.md)`,
      );

    const submission = { problemId: o.problem, language: o.language, sourceCode: o.sourceCode };
    const submitted = await call('submit', '/api/submissions', {
      method: 'POST',
      body: JSON.stringify(submission),
      headers: { 'content-type': 'application/json' },
    });
    requestId = (submitted.body as { requestId?: string }).requestId;
    if (submitted.status !== 202 || !requestId)
      throw new StepError(`submit: POST /api/submissions answered ${submitted.status}: ${describe(submitted.body)}`);
    log(`submitted ${requestId} (${o.problem}, ${o.language})`);

    const deadline = Date.now() + o.timeoutMs;
    let wait = o.pollMs ?? 500;
    for (;;) {
      const status = await call('result', `/api/submissions/${encodeURIComponent(requestId)}`);
      const view = status.body as { status?: string; result?: { verdict?: string }; reason?: string };
      if (status.status !== 200)
        throw new StepError(`result: GET /api/submissions/${requestId} answered ${status.status}: ${describe(status.body)}`);
      if (view.status === 'completed' || view.status === 'failed') {
        const verdict = view.result?.verdict;
        log(`graded ${requestId}: ${view.status}${verdict ? ` ${verdict}` : ''}`);
        if (view.status !== 'completed' || verdict !== o.expect) {
          return {
            ok: false,
            requestId,
            verdict,
            problem: `result: expected ${o.expect}, got ${view.status} ${verdict ?? ''} ${describe(view)}`.trim(),
          };
        }
        return { ok: true, requestId, verdict };
      }
      if (Date.now() + wait > deadline)
        throw new StepError(
          `result: ${requestId} still ${view.status ?? 'unknown'} after ${Math.round(o.timeoutMs / 1000)} s (are workers running? check the queue-backlog alarm and the worker logs)`,
        );
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(wait * 2, 5000);
    }
  } catch (error) {
    if (error instanceof StepError) return { ok: false, requestId, problem: error.message };
    return { ok: false, requestId, problem: `unexpected: ${(error as Error).stack ?? String(error)}` };
  }
}

/** Parses the command line; every problem with it reported at once. */
export function parseSmokeArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): SmokeOptions {
  const values: Record<string, string> = {};
  const problems: string[] = [];
  const known = ['url', 'problem', 'language', 'source', 'expect', 'token', 'timeout'];
  for (let i = 0; i < argv.length; i++) {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!match || !known.includes(match[1])) {
      problems.push(`unknown argument ${argv[i]} (expected ${known.map((k) => `--${k}`).join(', ')})`);
      continue;
    }
    const value = match[2] ?? argv[++i];
    if (value === undefined) problems.push(`--${match[1]} needs a value`);
    else values[match[1]] = value;
  }
  const url = values.url ?? env.SMOKE_URL;
  if (!url) problems.push('--url is required (the stack output `url`)');
  else if (!/^https?:\/\//.test(url)) problems.push(`--url "${url}" must start with https:// (or http:// for a local gateway)`);
  const problem = values.problem ?? 'sum';
  const language = values.language ?? 'python';
  const extension = EXTENSIONS[language];
  if (!extension && !values.source)
    problems.push(`--language ${language}: give --source for it (known defaults: ${Object.keys(EXTENSIONS).join(', ')})`);
  const source = values.source ?? path.join(ROOT, 'examples', 'solutions', problem, `accepted.${extension}`);
  let sourceCode = '';
  if (fs.existsSync(source)) sourceCode = fs.readFileSync(source, 'utf8');
  else problems.push(`--source ${source} does not exist`);
  const timeout = Number(values.timeout ?? 300);
  if (!(timeout > 0)) problems.push(`--timeout must be a positive number of seconds (got ${values.timeout})`);
  if (problems.length) throw new Error(`smoke: ${problems.join('; ')}`);
  return {
    url: url!,
    problem,
    language,
    sourceCode,
    expect: values.expect ?? 'AC',
    token: values.token ?? env.SMOKE_TOKEN,
    timeoutMs: timeout * 1000,
  };
}

if (require.main === module) {
  let options: SmokeOptions;
  try {
    options = parseSmokeArgs(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
  void runSmoke(options).then((outcome) => {
    if (outcome.ok) console.log(`smoke test passed: ${outcome.requestId} graded ${outcome.verdict}`);
    else console.error(`smoke test FAILED at ${outcome.problem}`);
    process.exit(outcome.ok ? 0 : 1);
  });
}
