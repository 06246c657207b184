/**
 * After an AC: fingerprints stored, the solution committed once to the linked repository (MariaDB
 * over TLS for the stores, the local GitHub contents-API server for GitHub), tokens sealed at rest.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import mysql, { Pool, RowDataPacket } from 'mysql2/promise';
import type { GradingResult } from '../../core/src/contracts/result';
import { createLogger } from '../../core/src/log';
import { MysqlSimilarityStore } from '../../core/src/similarity/store';
import { LocalEnvelopeEncryptor } from '../../core/src/solutions/crypto';
import { OctokitPublisher } from '../../worker/src/solutions/github/octokitPublisher';
import { DEFAULT_PATH_TEMPLATE } from '../../core/src/solutions/pathTemplate';
import { AcceptedResultHandler, SubmissionFacts } from '../../worker/src/solutions/onAccepted';
import { MysqlSolutionStore } from '../../core/src/solutions/store';
import { FakeGitHub, startFakeGitHub } from '../helpers/fakeGitHub';
import { sharedMariaDb } from '../helpers/services';

const TOKEN = `github_pat_${randomBytes(12).toString('hex')}`;

describe('accepted solutions: fingerprints and GitHub commits', () => {
  let pool: Pool;
  let solutions: MysqlSolutionStore;
  let similarity: MysqlSimilarityStore;
  let github: FakeGitHub;
  let logLines: string[];
  let submissions: Map<string, SubmissionFacts>;
  const encryptor = new LocalEnvelopeEncryptor(randomBytes(32).toString('base64'), 'test');

  before(async function () {
    this.timeout(120_000);
    const db = await sharedMariaDb();
    pool = mysql.createPool({ ...db.connectionOptions(), connectionLimit: 4 });
    solutions = await MysqlSolutionStore.create(pool);
    similarity = await MysqlSimilarityStore.create(pool);
  });
  after(async () => pool?.end());

  beforeEach(async () => {
    github = await startFakeGitHub([TOKEN]);
    github.addRepository('alice/judge');
    logLines = [];
    submissions = new Map();
  });
  afterEach(async () => {
    assert.ok(!logLines.join('\n').includes(TOKEN), 'no log line holds the token');
    await github.close();
  });

  const handler = (sleeps: number[] = []) =>
    new AcceptedResultHandler({
      solutions,
      similarity,
      encryptor,
      publisher: new OctokitPublisher({
        baseUrl: github.baseUrl,
        sleep: async (ms) => void sleeps.push(ms),
        maxWaitMs: 5000,
        log: createLogger({}, 'debug', (l) => logLines.push(l)),
      }),
      readSubmission: async (requestId) => {
        const facts = submissions.get(requestId);
        if (!facts) throw new Error(`no submission ${requestId}`);
        return facts;
      },
      log: createLogger({}, 'debug', (l) => logLines.push(l)),
    });

  function accepted(userId: string, verdict: 'AC' | 'WA' = 'AC'): GradingResult {
    const requestId = `req_${randomBytes(8).toString('hex')}`;
    submissions.set(requestId, {
      userId,
      problemId: 'sum',
      language: 'python',
      source: `# ${requestId}\nprint(sum(map(int, input().split())))\n`,
    });
    return {
      requestId,
      status: 'completed',
      timestamp: new Date().toISOString(),
      result: {
        verdict,
        score: verdict === 'AC' ? 100 : 0,
        executionTime: 12,
        memoryUsage: 8,
        testResults: [{ case: 1, status: verdict, time: 12, memory: 8 }],
      },
    };
  }

  async function link(userId: string, token = TOKEN) {
    return solutions.saveLink({
      userId,
      repository: 'alice/judge',
      pathTemplate: DEFAULT_PATH_TEMPLATE,
      tokenSealed: await encryptor.encrypt(token, userId),
    });
  }

  const user = () => `alice_${randomBytes(4).toString('hex')}`;

  it('commits an accepted solution once, records the commit, and stores only the sealed token', async () => {
    const userId = user();
    await link(userId);
    const result = accepted(userId);
    assert.deepEqual(await handler().handle(result), { kind: 'done', fingerprinted: true, github: 'committed' });
    const record = await solutions.getCommit(result.requestId);
    assert.equal(record?.status, 'committed');
    assert.equal(record?.commitUrl, `https://github.com/alice/judge/commit/${record?.commitSha}`);
    assert.equal(github.commits.filter((c) => c.path === 'sum/python/solution.py').length, 1);
    assert.ok(await similarity.getFingerprints(result.requestId));

    assert.deepEqual(await handler().handle(result), { kind: 'done', fingerprinted: true, github: 'already-committed' });
    assert.equal(github.commits.filter((c) => c.path === 'sum/python/solution.py').length, 1, 'a redelivered result commits nothing');

    const [rows] = await pool.query<RowDataPacket[]>('SELECT * FROM github_links WHERE user_id = ?', [userId]);
    assert.ok(!JSON.stringify(rows).includes(TOKEN), 'the token is not stored in plain text');
    assert.equal(await encryptor.decrypt(rows[0].token_sealed, userId), TOKEN);
  });

  it('two publishers racing on the same result commit exactly once', async () => {
    const userId = user();
    await link(userId);
    const result = accepted(userId);
    const outcomes = await Promise.all([handler().handle(result), handler().handle(result)]);
    assert.equal(outcomes.filter((o) => o.kind === 'done' && o.github === 'committed').length, 1);
    // The loser either finds the claim held (retry after the lease) or, when the winner was quick, the commit made.
    const loser = outcomes.find((o) => !(o.kind === 'done' && o.github === 'committed'));
    assert.ok(loser?.kind === 'retry' || (loser?.kind === 'done' && loser.github === 'already-committed'), JSON.stringify(outcomes));
    assert.equal(github.commits.filter((c) => c.path === 'sum/python/solution.py').length, 1);
  });

  it('ignores other verdicts, and fingerprints without committing when the author has no link', async () => {
    const userId = user();
    const wrong = accepted(userId, 'WA');
    assert.equal((await handler().handle(wrong)).kind, 'ignored');
    assert.equal(await similarity.getFingerprints(wrong.requestId), undefined);
    const ok = accepted(userId);
    assert.deepEqual(await handler().handle(ok), { kind: 'done', fingerprinted: true, github: 'not-linked' });
    assert.ok(await similarity.getFingerprints(ok.requestId));
    assert.equal(github.commits.length, 0);
  });

  it('a revoked token marks that link invalid, and a newer link is not touched by a late failure', async () => {
    const userId = user();
    const old = await link(userId, 'revoked-token');
    assert.deepEqual(await handler().handle(accepted(userId)), { kind: 'done', fingerprinted: true, github: 'link-invalid' });
    const invalid = await solutions.getLink(userId);
    assert.equal(invalid?.status, 'invalid');
    assert.match(invalid?.invalidReason ?? '', /401/);

    await link(userId);
    await solutions.markLinkInvalid(userId, old.linkId, 'late failure of the old link');
    assert.equal((await solutions.getLink(userId))?.status, 'active');
    assert.equal((await handler().handle(accepted(userId))).kind, 'done');
    assert.equal(github.commits.length, 2, 'solution and README');
  });

  it('a long rate limit hands the result back with the reset time; the retry commits once', async () => {
    const userId = user();
    await link(userId);
    const result = accepted(userId);
    const reset = Math.floor(Date.now() / 1000) + 3600;
    github.failNext.push({
      status: 403,
      message: 'API rate limit exceeded',
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) },
    });
    const first = await handler().handle(result);
    assert.equal(first.kind, 'retry');
    assert.equal(first.kind === 'retry' && Math.round(first.retryAt / 1000), reset);
    assert.equal((await solutions.getCommit(result.requestId))?.status, 'failed');
    assert.deepEqual(await handler().handle(result), { kind: 'done', fingerprinted: true, github: 'committed' });
    assert.equal((await solutions.getCommit(result.requestId))?.attempts, 2);
    assert.equal(github.commits.filter((c) => c.path === 'sum/python/solution.py').length, 1);
  });

  it('a token sealed under another key marks the link invalid instead of retrying', async () => {
    const userId = user();
    const other = new LocalEnvelopeEncryptor(randomBytes(32).toString('base64'), 'test');
    await solutions.saveLink({
      userId,
      repository: 'alice/judge',
      pathTemplate: DEFAULT_PATH_TEMPLATE,
      tokenSealed: await other.encrypt(TOKEN, userId),
    });
    assert.deepEqual(await handler().handle(accepted(userId)), { kind: 'done', fingerprinted: true, github: 'link-invalid' });
    assert.match((await solutions.getLink(userId))?.invalidReason ?? '', /no longer opens/);
    assert.equal(github.commits.length, 0);
  });

  it('unlinking deletes the sealed token', async () => {
    const userId = user();
    await link(userId);
    assert.equal(await solutions.deleteLink(userId), true);
    assert.equal(await solutions.getLink(userId), undefined);
    assert.equal(await solutions.deleteLink(userId), false);
  });
});
