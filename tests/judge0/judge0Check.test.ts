/**
 * `grading-stack judge0-check` as operators run it (a real process), against the test server that
 * answers like Judge0 1.13.1: every check passes on a default Judge0, and a Judge0 whose limits
 * cannot serve the grader (MAX_MAX_FILE_SIZE below a large allowed output) makes it fail loudly.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Judge0TestServer, startJudge0TestServer } from '../helpers/judge0TestServer';

const ROOT = path.join(__dirname, '../..');
const run = promisify(execFile);
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, [path.join(ROOT, 'bin/grading-stack.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    maxBuffer: 1 << 24,
  }).then(
    (r) => ({ ...r, code: 0 }),
    (e: { stdout: string; stderr: string; code: number }) => e,
  );

function row(stdout: string, language: string): string[] {
  const line = stdout.split('\n').find((l) => l.startsWith(`${language} `));
  assert.ok(line, `no row for ${language} in:\n${stdout}`);
  return line.trim().split(/\s+/).slice(1);
}

describe('grading-stack judge0-check', function () {
  this.timeout(600_000);
  let judge0: Judge0TestServer;
  afterEach(() => judge0?.close());

  it('passes every check for every language on a default Judge0 1.13.1', async () => {
    judge0 = await startJudge0TestServer({ authToken: 'check-token', uidBase: 62800 });
    const { stdout, stderr, code } = await cli(['judge0-check', '--url', judge0.baseUrl], { JUDGE0_AUTH_TOKEN: 'check-token' });
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /language +AC +WA +CE +RE-segfault +TLE +MLE +OLE +libm +large-output +batch-20 +checker +interactive/);
    const passes = { c: 10, cpp: 12, java: 9 };
    for (const [language, n] of Object.entries(passes)) {
      assert.deepEqual(
        row(stdout, language).filter((r) => r !== 'n/a'),
        Array(n).fill('pass'),
      );
    }
    const interpreted = ['pass', 'pass', 'n/a', 'pass', 'pass', 'pass', 'pass', 'n/a', 'pass', 'pass'];
    assert.deepEqual(row(stdout, 'python'), [...interpreted, 'pass', 'pass']);
    assert.deepEqual(row(stdout, 'javascript'), [...interpreted, 'n/a', 'n/a']);
    // Go and Rust: runtime errors, limits and output limits as the sandbox judges them.
    for (const language of ['go', 'rust']) assert.deepEqual(row(stdout, language).slice(0, 7), Array(7).fill('pass'));
    assert.match(stdout, /Java \(OpenJDK 13\.0\.1\) \(id 62, run as a multi-file program with memory flags\)/);
    assert.match(stdout, /all checks passed/);
  });

  it('fails with the reason when the deployment cannot serve large outputs, and when the token is wrong', async () => {
    judge0 = await startJudge0TestServer({ authToken: 'check-token', uidBase: 62800, settings: { maxMaxFileSize: 1024 } });
    const { stdout, code } = await cli(['judge0-check', '--url', judge0.baseUrl, '--token', 'check-token', '--languages', 'c']);
    assert.equal(code, 1, stdout);
    assert.deepEqual(row(stdout, 'c'), ['pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'FAIL', 'pass', 'n/a', 'n/a']);
    assert.match(stdout, /FAIL c large-output: expected AC, got OLE \(output reached Judge0's max_file_size \(1024 KB\)\)/);
    const denied = await cli(['judge0-check', '--url', judge0.baseUrl, '--token', 'wrong']);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /rejected the auth token/);
  });

  it('answers --help and rejects unknown flags', async () => {
    const help = await cli(['judge0-check', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /usage: grading-stack judge0-check --url URL/);
    const bad = await cli(['judge0-check', '--url', 'ftp://x', '--tokn', 't', '--languages', 'cobol']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown option --tokn/);
    assert.match(bad.stderr, /--url must be an http\(s\) URL/);
    assert.match(bad.stderr, /--languages: unknown "cobol"/);
  });
});
