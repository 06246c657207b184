/** The Octokit publisher against a local server that follows GitHub's contents API (tests/helpers/fakeGitHub.ts). */
import assert from 'node:assert/strict';
import { createLogger } from '../../core/src/log';
import {
  commitMessage,
  OctokitPublisher,
  OctokitPublisherOptions,
  rateLimitWait,
} from '../../worker/src/solutions/github/octokitPublisher';
import { checkPathTemplate, DEFAULT_PATH_TEMPLATE, readmePath, renderPath } from '../../core/src/solutions/pathTemplate';
import {
  AcceptedSolution,
  LinkInvalidError,
  PublishRejectedError,
  RateLimitedError,
  RepositoryLink,
} from '../../worker/src/solutions/github/port';
import { FakeGitHub, startFakeGitHub } from '../helpers/fakeGitHub';

const TOKEN = 'github_pat_11AAAAAAA0_secretTokenValueForTests';
const solution: AcceptedSolution = {
  requestId: 'req_abc',
  problemId: 'sum',
  language: 'python',
  extension: 'py',
  source: 'print(sum(map(int, input().split())))\n',
  verdict: 'AC',
  executionTime: 41.6,
  memoryUsage: 9.5,
  acceptedAt: '2026-11-23T19:00:00.000Z',
};

describe('GitHub publisher (contents API)', () => {
  let github: FakeGitHub;
  let sleeps: number[];
  let logLines: string[];
  const link: RepositoryLink = { repository: 'alice/solutions', token: TOKEN, pathTemplate: DEFAULT_PATH_TEMPLATE };
  const publisher = (opts: OctokitPublisherOptions = {}) =>
    new OctokitPublisher({
      baseUrl: github.baseUrl,
      now: () => Date.parse('2026-11-23T19:00:00Z'),
      sleep: async (ms) => void sleeps.push(ms),
      log: createLogger({}, 'debug', (line) => logLines.push(line)),
      ...opts,
    });

  beforeEach(async () => {
    github = await startFakeGitHub([TOKEN, 'read-only-token']);
    github.addRepository('alice/solutions');
    sleeps = [];
    logLines = [];
  });
  afterEach(async () => {
    assert.ok(!logLines.join('\n').includes(TOKEN), 'the token never appears in a log line');
    await github.close();
  });

  it('creates the solution with the verdict, time and memory in the message, and a README for the problem', async () => {
    const outcome = await publisher().publish(link, solution);
    assert.equal(outcome.kind, 'created');
    assert.equal(outcome.path, 'sum/python/solution.py');
    const files = github.files.get('alice/solutions')!;
    assert.equal(files.get('sum/python/solution.py'), solution.source);
    assert.match(files.get('sum/README.md')!, /# sum/);
    const commit = github.commits.find((c) => c.path === 'sum/python/solution.py')!;
    assert.equal(outcome.commitSha, commit.sha);
    assert.equal(outcome.url, `https://github.com/alice/solutions/commit/${commit.sha}`);
    assert.equal(commit.message, commitMessage(solution));
    assert.match(commit.message, /sum \(python\): AC, 42 ms, 9\.5 MB/);
    assert.ok(
      github.requests.every((r) => r.authorization === `token ${TOKEN}`),
      'every call authenticates with the token',
    );
  });

  it('updates an existing file with its sha (200) and keeps an existing README', async () => {
    const files = github.files.get('alice/solutions')!;
    files.set('sum/python/solution.py', 'print(1)\n');
    files.set('sum/README.md', 'mine\n');
    const outcome = await publisher().publish(link, solution);
    assert.equal(outcome.kind, 'updated');
    assert.equal(files.get('sum/python/solution.py'), solution.source);
    assert.equal(files.get('sum/README.md'), 'mine\n');
    const put = github.requests.find((r) => r.method === 'PUT')!;
    assert.equal(typeof put.body?.sha, 'string');
    assert.equal(github.commits.length, 1);
  });

  it('does not commit a file that already holds the source (a retry after a crash)', async () => {
    await publisher().publish(link, solution);
    const commits = github.commits.length;
    const again = await publisher().publish(link, solution);
    assert.equal(again.kind, 'unchanged');
    assert.equal(github.commits.length, commits);
    assert.equal(again.url, 'https://github.com/alice/solutions/blob/main/sum/python/solution.py');
  });

  it('re-reads the sha after a 409 conflict from a concurrent writer, then commits', async () => {
    let raced = false;
    github.beforePut = (repo, path) => {
      if (raced || path !== 'sum/python/solution.py') return;
      raced = true;
      github.files.get(repo)!.set(path, 'someone else\n');
    };
    github.files.get('alice/solutions')!.set('sum/python/solution.py', 'old\n');
    const outcome = await publisher().publish(link, solution);
    assert.equal(outcome.kind, 'updated');
    assert.equal(github.files.get('alice/solutions')!.get('sum/python/solution.py'), solution.source);
    assert.equal(github.requests.filter((r) => r.method === 'GET' && r.path === 'sum/python/solution.py').length, 2);
  });

  it('re-reads the sha after a 422 "sha wasn\'t supplied" (the file appeared after the read)', async () => {
    let raced = false;
    github.beforePut = (repo, path) => {
      if (raced || path !== 'sum/python/solution.py') return;
      raced = true;
      github.files.get(repo)!.set(path, 'created meanwhile\n');
    };
    const outcome = await publisher().publish(link, solution);
    assert.equal(outcome.kind, 'updated');
    assert.equal(github.files.get('alice/solutions')!.get('sum/python/solution.py'), solution.source);
  });

  it('gives up on a path that keeps conflicting, and on other 422s', async () => {
    github.beforePut = (repo, path) => github.files.get(repo)!.set(path, `other ${Math.random()}\n`);
    await assert.rejects(
      publisher({ maxConflictRetries: 2 }).publish(link, solution),
      (e: Error) => e instanceof PublishRejectedError && /409|does not match/.test(e.message),
    );
    github.beforePut = undefined;
    github.failNext.push({ status: 422, method: 'PUT', message: 'Validation Failed: path contains a malformed path component' });
    await assert.rejects(publisher().publish(link, { ...solution, problemId: 'other' }), PublishRejectedError);
  });

  it('401 Bad credentials marks the link invalid', async () => {
    await assert.rejects(
      publisher().publish({ ...link, token: 'revoked-token' }, solution),
      (e: Error) => e instanceof LinkInvalidError && (e as LinkInvalidError).status === 401,
    );
    assert.equal(github.commits.length, 0);
  });

  it('403 without a rate limit (a read-only token) and 404 (unknown repository) mark the link invalid', async () => {
    github.readOnlyTokens.add('read-only-token');
    await assert.rejects(
      publisher().publish({ ...link, token: 'read-only-token' }, solution),
      (e: Error) => e instanceof LinkInvalidError && /403/.test(e.message),
    );
    await assert.rejects(
      publisher().publish({ ...link, repository: 'alice/missing' }, solution),
      (e: Error) => e instanceof LinkInvalidError && (e as LinkInvalidError).status === 404,
    );
  });

  it('403 primary rate limit waits until x-ratelimit-reset, then continues', async () => {
    const reset = Date.parse('2026-11-23T19:00:00Z') / 1000 + 90;
    github.failNext.push({
      status: 403,
      message: 'API rate limit exceeded for user ID 1.',
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) },
    });
    const outcome = await publisher().publish(link, solution);
    assert.equal(outcome.kind, 'created');
    assert.deepEqual(sleeps, [90_000]);
  });

  it('429 secondary rate limit honours retry-after', async () => {
    github.failNext.push({
      status: 429,
      method: 'PUT',
      message: 'You have exceeded a secondary rate limit.',
      headers: { 'retry-after': '30' },
    });
    await publisher().publish(link, solution);
    assert.deepEqual(sleeps, [30_000]);
    assert.equal(github.files.get('alice/solutions')!.get('sum/python/solution.py'), solution.source);
  });

  it('403 secondary limit without headers waits a minute, then longer each time; beyond the budget it hands the job back', async () => {
    const secondary = { status: 403, message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' };
    github.failNext.push(secondary, secondary);
    await publisher().publish(link, solution);
    assert.deepEqual(sleeps, [60_000, 120_000]);

    github.failNext.push({ status: 429, message: 'slow down', headers: { 'retry-after': '3600' } });
    await assert.rejects(publisher({ maxWaitMs: 600_000 }).publish(link, { ...solution, problemId: 'late' }), (e: Error) => {
      return e instanceof RateLimitedError && e.retryAt.toISOString() === '2026-11-23T20:00:00.000Z';
    });
  });

  it('retries 5xx with back-off', async () => {
    github.failNext.push({ status: 502, message: 'Server Error' });
    const outcome = await publisher().publish(link, solution);
    assert.equal(outcome.kind, 'created');
    assert.deepEqual(sleeps, [1000]);
  });

  it('never writes the token to its log, whatever fails', async () => {
    github.failNext.push(
      { status: 429, message: 'limit', headers: { 'retry-after': '1' } },
      { status: 409, method: 'PUT', message: 'conflict' },
    );
    await publisher().publish(link, solution);
    await publisher()
      .publish({ ...link, token: TOKEN + 'x' }, solution)
      .catch(() => undefined);
    assert.ok(logLines.length >= 2, 'the publisher logged something to check');
  });
});

describe('GitHub path template and rate-limit waits', () => {
  const values = { problemId: 'sum', language: 'cpp', ext: 'cpp', requestId: 'req_1' };
  it('renders the default template and the README beside the problem folder', () => {
    assert.equal(renderPath(DEFAULT_PATH_TEMPLATE, values), 'sum/cpp/solution.cpp');
    assert.equal(readmePath(DEFAULT_PATH_TEMPLATE, values), 'sum/README.md');
    assert.equal(readmePath('judge/{problemId}/{requestId}.{ext}', values), 'judge/sum/README.md');
    assert.equal(readmePath('{problemId}.{ext}', values), undefined);
  });

  it('reports every problem of a bad template at once', () => {
    assert.deepEqual(checkPathTemplate(DEFAULT_PATH_TEMPLATE), []);
    const problems = checkPathTemplate('/../{user}/x y//a');
    assert.ok(problems.some((p) => /\{problemId\}/.test(p)));
    assert.ok(problems.some((p) => /\{user\} is not a placeholder/.test(p)));
    assert.ok(problems.some((p) => /only letters/.test(p)));
    assert.ok(problems.some((p) => /relative path/.test(p)));
    assert.ok(problems.some((p) => /"\.\."/.test(p)));
  });

  it('orders the waits as GitHub documents: retry-after, then the reset time, then a growing minute', () => {
    const now = 1_000_000_000_000;
    assert.equal(
      rateLimitWait({ 'retry-after': '5', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000 + 99) }, 1, now),
      5000,
    );
    assert.equal(rateLimitWait({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000 + 99) }, 1, now), 99_000);
    assert.equal(rateLimitWait({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000 - 10) }, 1, now), 1000);
    assert.equal(rateLimitWait({}, 3, now), 240_000);
  });
});
