/**
 * scripts/smoke.ts, the post-deploy smoke test, run against a gateway of the local stack (real
 * broker, worker, database and S3 behind it) exactly as an operator runs it against the ALB: only
 * HTTP. It passes on an accepted solution, and names the step when something is wrong. The last
 * case checks only what the script sends (a recording server answers as the gateway's API does).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { parseSmokeArgs, runSmoke } from '../../scripts/smoke';
import type { RunningGateway } from '../../web/src/wiring';
import { E2E_GATEWAY_AUTH_ENV, tokenFor } from '../helpers/gatewayAuth';
import { E2eStack, startE2eStack } from './stack';

describe('post-deploy smoke test (scripts/smoke.ts) against the local stack', function () {
  this.timeout(180_000);
  let stack: E2eStack;
  let gateway: RunningGateway;
  let token: string;
  const lines: string[] = [];

  before(async () => {
    stack = await startE2eStack('smoke');
    gateway = await stack.gateway(E2E_GATEWAY_AUTH_ENV);
    token = await tokenFor('smoke-test');
  });

  after(async () => {
    await stack?.stop();
  });

  it('grades the sample accepted solution through the HTTP API and passes', async () => {
    const options = parseSmokeArgs(['--url', gateway.url, '--token', token, '--timeout', '120'], {});
    const outcome = await runSmoke({ ...options, log: (l) => lines.push(l) });
    assert.equal(outcome.problem, undefined);
    assert.deepEqual([outcome.ok, outcome.verdict], [true, 'AC']);
    assert.match(outcome.requestId ?? '', /^req_/);
    assert.ok(
      lines.some((l) => l.startsWith('graded ')),
      lines.join('\n'),
    );
  });

  it('fails, naming the step, when the verdict differs or the problem is missing', async () => {
    const wrong = parseSmokeArgs(
      ['--url', gateway.url, '--token', token, '--source', path.join(__dirname, '../../examples/solutions/sum/wrong-answer.py')],
      {},
    );
    const graded = await runSmoke({ ...wrong, log: () => undefined });
    assert.equal(graded.ok, false);
    assert.equal(graded.verdict, 'WA');
    assert.match(graded.problem ?? '', /^result: expected AC, got completed WA/);

    const missing = await runSmoke({ ...wrong, problem: 'no-such-problem', log: () => undefined });
    assert.match(missing.problem ?? '', /^problems: "no-such-problem" is not in the bucket \(found: .*sum.*\); load the problems first/);
  });

  it('reports an unreachable URL and bad arguments clearly', async () => {
    const outcome = await runSmoke({ ...parseSmokeArgs(['--url', 'http://127.0.0.1:9'], {}), log: () => undefined });
    assert.match(outcome.problem ?? '', /^health: cannot reach http:\/\/127\.0\.0\.1:9\/health/);
    const cli = spawnSync(
      'npx',
      ['tsx', path.join(__dirname, '../../scripts/smoke.ts'), '--url', 'ftp://x', '--timeout', '-1', '--bogus'],
      { encoding: 'utf8', env: { ...process.env, SMOKE_URL: '' } },
    );
    assert.equal(cli.status, 2);
    assert.match(cli.stderr, /unknown argument --bogus/);
    assert.match(cli.stderr, /--url "ftp:\/\/x" must start with https:\/\//);
    assert.match(cli.stderr, /--timeout must be a positive number/);
  });
});

describe('post-deploy smoke test: credentials', () => {
  it('sends the token as a bearer token on every call, and never a user id (the gateway takes it from the token)', async () => {
    const seen: Array<{ url: string; authorization?: string; body: string }> = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', authorization: req.headers.authorization, body });
        const json = (status: number, value: unknown) =>
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
        if (req.url === '/health') return json(200, { status: 'ok' });
        if (req.url === '/api/problems') return json(200, { problems: [{ id: 'sum' }] });
        if (req.url === '/api/submissions') return json(202, { requestId: 'req_token_1', status: 'submitted' });
        return json(200, { requestId: 'req_token_1', status: 'completed', result: { verdict: 'AC' } });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const options = parseSmokeArgs(['--url', url], { SMOKE_TOKEN: 'tok-123' });
      const outcome = await runSmoke({ ...options, log: () => undefined });
      assert.deepEqual([outcome.ok, outcome.verdict], [true, 'AC']);
      assert.deepEqual(new Set(seen.map((s) => s.authorization)), new Set(['Bearer tok-123']));
      const submitted = JSON.parse(seen.find((s) => s.url === '/api/submissions')!.body);
      assert.deepEqual(Object.keys(submitted).sort(), ['language', 'problemId', 'sourceCode']);
    } finally {
      server.close();
    }
  });
});
