/**
 * The accepted-solutions process from its env-var config, against the real broker (STOMP+TLS),
 * MariaDB, s3rver and the local GitHub contents-API server: an AC result on the results queue ends
 * as one commit in the linked repository and stored fingerprints; a WA result changes nothing.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { GradingResult } from '../../core/src/contracts/result';
import { createLogger } from '../../core/src/log';
import { BrokerSession } from '../../core/src/queue/session';
import { MysqlResultStore } from '../../core/src/results/mysqlStore';
import { MysqlSimilarityStore } from '../../core/src/similarity/store';
import { parseSolutionsConfig } from '../../worker/src/solutions/config';
import { LocalEnvelopeEncryptor } from '../../core/src/solutions/crypto';
import { RunningSolutions, startSolutions } from '../../worker/src/solutions/main';
import { MysqlSolutionStore } from '../../core/src/solutions/store';
import { FakeGitHub, startFakeGitHub } from '../helpers/fakeGitHub';
import { sharedActiveMq, sharedMariaDb, sharedS3 } from '../helpers/services';

async function poll<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('accepted-solutions process', function () {
  this.timeout(120_000);
  const token = `github_pat_${randomBytes(10).toString('hex')}`;
  const key = randomBytes(32).toString('base64');
  const queue = `solutions-test-${randomBytes(4).toString('hex')}`;
  let github: FakeGitHub;
  let running: RunningSolutions;
  let sender: BrokerSession;
  let store: MysqlResultStore;
  let s3: S3Client;
  let bucket: string;
  const logLines: string[] = [];
  const savedCredentials = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

  before(async () => {
    const [broker, db, localS3] = await Promise.all([sharedActiveMq(), sharedMariaDb(), sharedS3()]);
    // The process's S3 client reads credentials the standard way (env), as on AWS.
    process.env.AWS_ACCESS_KEY_ID = localS3.env().AWS_ACCESS_KEY_ID;
    process.env.AWS_SECRET_ACCESS_KEY = localS3.env().AWS_SECRET_ACCESS_KEY;
    github = await startFakeGitHub([token]);
    github.addRepository('bob/ac');
    const env = {
      ...broker.env(),
      ...db.env(),
      ...localS3.env(),
      SOLUTIONS_TOKEN_KEY: key,
      GITHUB_API_URL: github.baseUrl,
      SOLUTIONS_RESULTS_QUEUE: queue,
    };
    const config = parseSolutionsConfig(env);
    running = await startSolutions(
      config,
      createLogger({}, 'debug', (l) => logLines.push(l)),
    );
    sender = await BrokerSession.open({ ...broker.connectOptions() });
    store = await MysqlResultStore.connect({ ...config.db });
    s3 = new S3Client({
      region: 'us-east-1',
      endpoint: localS3.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    bucket = localS3.bucket;
    const solutions = await MysqlSolutionStore.create(store.pool);
    await solutions.saveLink({
      userId: 'bob',
      repository: 'bob/ac',
      pathTemplate: '{problemId}/{language}/solution.{ext}',
      tokenSealed: await new LocalEnvelopeEncryptor(key, 'v1').encrypt(token, 'bob'),
    });
  });

  after(async () => {
    await running?.close();
    await sender?.close();
    await store?.close();
    await github?.close();
    for (const [name, value] of [
      ['AWS_ACCESS_KEY_ID', savedCredentials.id],
      ['AWS_SECRET_ACCESS_KEY', savedCredentials.secret],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    if (process.env.DEBUG_SOLUTIONS) console.log(logLines.join(''));
    assert.ok(!logLines.join('\n').includes(token), 'the token never reaches the log');
  });

  async function publishResult(verdict: 'AC' | 'WA'): Promise<string> {
    const requestId = `req_${randomBytes(8).toString('hex')}`;
    const source = `a, b = map(int, input().split())\nprint(a + b)  # ${requestId}\n`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `submissions/${requestId}/solution.py`, Body: source }));
    const metadata = {
      requestId,
      userId: 'bob',
      problemId: 'sum',
      language: 'python',
      priority: false,
      sourceBytes: source.length,
      submittedAt: new Date().toISOString(),
    };
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `submissions/${requestId}/metadata.json`, Body: JSON.stringify(metadata) }));
    const result: GradingResult = {
      requestId,
      status: 'completed',
      timestamp: new Date().toISOString(),
      result: {
        verdict,
        score: verdict === 'AC' ? 100 : 0,
        executionTime: 20,
        memoryUsage: 9,
        testResults: [{ case: 1, status: verdict, time: 20, memory: 9 }],
      },
    };
    await sender.send(`/queue/${queue}`, JSON.stringify(result), { persistent: 'true', 'correlation-id': requestId });
    return requestId;
  }

  it('commits an AC result to the linked repository and stores its fingerprints; a WA is left alone', async () => {
    const wrong = await publishResult('WA');
    const requestId = await publishResult('AC');
    const similarity = await MysqlSimilarityStore.create(store.pool);
    const solutions = await MysqlSolutionStore.create(store.pool);
    const record = await poll('the commit record', async () => {
      const r = await solutions.getCommit(requestId);
      return r?.status === 'committed' ? r : undefined;
    });
    assert.equal(record.commitUrl, `https://github.com/bob/ac/commit/${record.commitSha}`);
    assert.match(github.files.get('bob/ac')!.get('sum/python/solution.py')!, new RegExp(requestId));
    assert.ok(await similarity.getFingerprints(requestId));
    await poll('both results handled', async () => (running.consumer.stats.handled >= 2 ? true : undefined));
    assert.equal(await solutions.getCommit(wrong), undefined);
    assert.equal(await similarity.getFingerprints(wrong), undefined);
    assert.equal(github.commits.filter((c) => c.path === 'sum/python/solution.py').length, 1);
  });
});
