/**
 * Runs with custom input end to end: POST /api/runs on one gateway instance, the real broker, the
 * worker running the program in the sandbox, the `run` event on the progress topic, and GET
 * /api/runs/:id answered by another instance. The gateway and the worker use their own broker and
 * database users with the migration's grants (the run table's included).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { validateRunResult } from '../../core/src/contracts';
import type { RunningGateway } from '../../web/src/wiring';
import { bearer, E2E_GATEWAY_AUTH_ENV } from '../helpers/gatewayAuth';
import { E2E_BROKER_USERS, migrateForTiers } from '../helpers/tierUsers';
import { E2eStack, startE2eStack } from './stack';

type Json = Record<string, unknown>;

async function call(
  base: string,
  method: string,
  route: string,
  user: string | undefined,
  body?: unknown,
): Promise<{ status: number; headers: Headers; body: Json }> {
  const headers: Record<string, string> = {
    ...(user ? await bearer(user) : {}),
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
  };
  const response = await fetch(`${base}${route}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Json };
}

/** GET /api/runs/:id?wait=20 until it is no longer pending (each call is itself bounded). */
async function finished(base: string, runId: string, user: string): Promise<Json> {
  for (let i = 0; i < 6; i++) {
    const { status, body } = await call(base, 'GET', `/api/runs/${runId}?wait=20`, user);
    assert.equal(status, 200, JSON.stringify(body));
    if (body.state !== 'pending') return body;
  }
  throw new Error(`run ${runId} still pending`);
}

describe('runs with custom input, end to end (gateway, broker, worker, database)', function () {
  this.timeout(120_000);
  let stack: E2eStack;
  let a: RunningGateway;
  let b: RunningGateway;
  let tight: RunningGateway;

  before(async function () {
    this.timeout(240_000);
    let tierEnv: Record<string, string> = {};
    stack = await startE2eStack('runs-e2e', {
      brokerUsers: E2E_BROKER_USERS,
      prepare: async ({ db }) => {
        const users = await migrateForTiers(db);
        tierEnv = users.gateway;
        return users.worker;
      },
    });
    const env = { ...E2E_GATEWAY_AUTH_ENV, ...tierEnv };
    [a, b, tight] = await Promise.all([
      stack.gateway(env),
      stack.gateway(env),
      stack.gateway({ ...env, RUN_DAILY_BUDGET: '2', RUN_USER_BURST: '50' }),
    ]);
  });

  after(async function () {
    this.timeout(90_000);
    await stack?.stop();
  });

  it('runs the program once on the given stdin; the other instance answers with its output', async () => {
    const sourceCode =
      'import sys\nnums = sys.stdin.read().split()\nprint(sum(map(int, nums)))\nprint("read", len(nums), "numbers", file=sys.stderr)\n';
    const started = await call(a.url, 'POST', '/api/runs', 'run_alice', {
      problemId: 'sum',
      language: 'python',
      sourceCode,
      stdin: '40 2\n',
    });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const runId = started.body.runId as string;
    assert.match(runId, /^run_[0-9a-f]{32}$/);
    assert.equal(started.body.state, 'pending');
    assert.equal(started.headers.get('location'), `/api/runs/${runId}`);

    const view = await finished(b.url, runId, 'run_alice');
    assert.equal(view.state, 'finished');
    const result = view.result as Json;
    assert.ok(validateRunResult(result).ok, JSON.stringify(result));
    assert.equal(result.status, 'OK');
    assert.equal(result.stdout, '42\n');
    assert.equal(result.stderr, 'read 2 numbers\n');

    // Only its owner may read it; a run is no submission (not listed, nothing in grading_results).
    assert.equal((await call(b.url, 'GET', `/api/runs/${runId}`, 'run_mallory')).status, 404);
    assert.equal((await call(a.url, 'GET', `/api/runs/${runId}`, undefined)).status, 401);
    const listed = await call(a.url, 'GET', '/api/submissions', 'run_alice');
    assert.deepEqual(listed.body.submissions, []);
    const query = `SELECT COUNT(*) FROM \`${stack.db.database}\`.grading_results WHERE user_id = 'run_alice'`;
    const graded = execFileSync('/usr/bin/mariadb', ['--no-defaults', `--socket=${stack.db.socket}`, '-uroot', '-N', '-e', query], {
      encoding: 'utf8',
    });
    assert.equal(graded.trim(), '0');
  });

  it("shows a runtime error's exit code and stderr, and a compile error's compiler output", async () => {
    const re = await call(a.url, 'POST', '/api/runs', 'run_alice', {
      problemId: 'sum',
      language: 'python',
      sourceCode: 'import sys\nsys.stderr.write("bad input\\n")\nsys.exit(4)\n',
    });
    const ce = await call(a.url, 'POST', '/api/runs', 'run_alice', {
      problemId: 'sum',
      language: 'cpp',
      sourceCode: 'int main() { return x; }\n',
      stdin: '',
    });
    const reResult = (await finished(a.url, re.body.runId as string, 'run_alice')).result as Json;
    assert.equal(reResult.status, 'RE');
    assert.equal(reResult.exitCode, 4);
    assert.equal(reResult.stderr, 'bad input\n');
    const ceResult = (await finished(b.url, ce.body.runId as string, 'run_alice')).result as Json;
    assert.equal(ceResult.status, 'CE');
    assert.match(ceResult.compileOutput as string, /x. was not declared/);
  });

  it('names every problem of a bad run at once, and refuses an unknown problem', async () => {
    const bad = await call(a.url, 'POST', '/api/runs', 'run_alice', {
      problemId: 'sum',
      language: 'cobol',
      stdin: 7,
      priority: true,
      userId: 'someone',
    });
    assert.equal(bad.status, 400);
    const fields = (bad.body.errors as Array<{ field: string }>).map((e) => e.field).sort();
    assert.deepEqual(fields, ['language', 'priority', 'sourceCode', 'stdin', 'userId']);
    const tooLong = await call(a.url, 'POST', '/api/runs', 'run_alice', {
      problemId: 'sum',
      language: 'python',
      sourceCode: 'print(1)',
      stdin: 'x'.repeat(64 * 1024 + 1),
    });
    assert.equal(tooLong.status, 400);
    assert.match(tooLong.body.message as string, /stdin must be at most 65536 characters/);
    const unknown = await call(a.url, 'POST', '/api/runs', 'run_alice', {
      problemId: 'no-such-problem',
      language: 'python',
      sourceCode: 'print(1)',
    });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.message as string, /not a known problem/);
    assert.equal((await call(a.url, 'GET', '/api/runs/req_abc', 'run_alice')).status, 400);
    assert.equal((await call(a.url, 'GET', '/api/runs/run_abc?wait=999', 'run_alice')).status, 400);
  });

  it('keeps its own daily budget per account, apart from submissions', async () => {
    const body = { problemId: 'sum', language: 'python', sourceCode: 'print(1)' };
    for (let i = 0; i < 2; i++) assert.equal((await call(tight.url, 'POST', '/api/runs', 'run_budget', body)).status, 202);
    const refused = await call(tight.url, 'POST', '/api/runs', 'run_budget', body);
    assert.equal(refused.status, 429);
    assert.match(refused.body.message as string, /daily budget of 2 runs/);
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    // Submissions are budgeted apart: the same account may still submit.
    const submitted = await call(tight.url, 'POST', '/api/submissions', 'run_budget', { ...body, sourceCode: 'print(2)' });
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
  });
});
