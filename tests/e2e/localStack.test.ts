/**
 * `npm run local` as a user runs it (scripts/local.sh): the smoke mode grades the samples and exits
 * with their verdicts' status; the interactive mode keeps running until Ctrl-C (SIGINT to the
 * process group, as a terminal sends it) and then leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { canConnect } from '../../scripts/services/process';

const ROOT = path.join(__dirname, '../..');

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function runLocal(args: string[]): Run {
  // Own process group, so the test can send SIGINT to all of it like a terminal's Ctrl-C.
  const child = spawn('bash', ['scripts/local.sh', ...args], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GRADING_LOG_LEVEL: 'info' },
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitForOutput(run: Run, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = pattern.exec(run.output());
    if (match) return match;
    if (run.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no ${pattern} in the output of npm run local:\n${run.output()}`);
}

/** Every loopback port the run printed (broker, database, S3 API, gateway). */
function printedPorts(output: string): number[] {
  return [
    ...new Set(
      [...output.matchAll(/(?:stomp\+ssl|stomp|http):\/\/127\.0\.0\.1:(\d+)|127\.0\.0\.1:(\d+) database/g)].map((m) =>
        Number(m[1] ?? m[2]),
      ),
    ),
  ];
}

describe('npm run local (scripts/local.sh)', function () {
  this.timeout(300_000);
  const stateDirs: string[] = [];
  let current: Run | undefined;

  afterEach(async function () {
    this.timeout(60_000);
    if (current && current.child.exitCode === null && current.child.signalCode === null) {
      process.kill(-current.child.pid!, 'SIGTERM');
      const timer = setTimeout(() => process.kill(-current!.child.pid!, 'SIGKILL'), 30_000);
      await current.exited;
      clearTimeout(timer);
    }
    current = undefined;
  });

  after(() => {
    for (const dir of stateDirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  const stateDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grading-local-'));
    stateDirs.push(dir);
    return dir;
  };

  it('--smoke grades the samples (AC, WA, TLE, CE, ...), prints their verdicts and exits 0', async () => {
    const dir = stateDir();
    current = runLocal(['--smoke', '--state-dir', dir]);
    const code = await current.exited;
    const output = current.output();
    assert.equal(code, 0, output);
    for (const verdict of ['AC', 'WA', 'TLE', 'CE'])
      assert.match(output, new RegExp(`ok +\\S+ +\\S+ +\\S+ +expected ${verdict} +got ${verdict}`), verdict);
    assert.doesNotMatch(output, /BAD/);
    assert.match(output, /Grading Stack is running: open http:\/\/127\.0\.0\.1:\d+/);
    assert.match(output, /every sample got its expected verdict/);
    assert.ok(fs.existsSync(path.join(dir, 'mariadb', 'data')), 'state lives under the state dir');
    assert.ok(!fs.existsSync(path.join(dir, 'local.pid')), 'the lock is released');
    const ports = printedPorts(output);
    assert.equal(ports.length, 5, output); // ActiveMQ, MariaDB, S3 API, the GitHub stand-in, the gateway
    for (const port of ports) assert.equal(await canConnect(port), false, `port ${port} still open after exit`);
  });

  it('keeps running until Ctrl-C, then stops everything it started', async () => {
    const dir = stateDir();
    current = runLocal(['--state-dir', dir, '--port', '0']);
    await waitForOutput(current, /Ctrl-C stops everything/, 240_000);
    const [, url] = await waitForOutput(current, /Grading Stack is running: open (http:\/\/127\.0\.0\.1:\d+)/, 1000);
    // Signed in through the local issuer's dev login, as the page does.
    const login = await fetch(`${url}/api/dev/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'local_check' }),
    });
    const { token } = await login.json();
    assert.equal((await fetch(`${url}/api/problems`)).status, 401, 'the API needs a token');
    const problems = await (await fetch(`${url}/api/problems`, { headers: { authorization: `Bearer ${token}` } })).json();
    assert.equal(problems.problems.length, fs.readdirSync(path.join(ROOT, 'examples/problems')).length, 'every example problem is seeded');

    process.kill(-current.child.pid!, 'SIGINT');
    const code = await current.exited;
    assert.equal(code, 130, 'exits like a program interrupted by SIGINT');
    assert.match(current.output(), /stopped\./);
    assert.ok(!fs.existsSync(path.join(dir, 'local.pid')), 'the lock is released');
    assert.equal(printedPorts(current.output()).length, 5);
    for (const port of printedPorts(current.output())) assert.equal(await canConnect(port), false, `port ${port} still open after Ctrl-C`);
  });
});
