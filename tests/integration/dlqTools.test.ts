/**
 * `grading-stack dlq` against a real ActiveMQ running the generated broker XML: dead letters put
 * there by the worker (x-error-* headers) and by the broker's redelivery plugin (NACK past the
 * limit: ActiveMQ's original-destination header) are listed with reasons and ages, shown, replayed
 * to their original queue, purged with confirmation. A request dead-lettered because its problem
 * was missing is graded after the problem is uploaded and the dead letter replayed.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { LocalActiveMq } from '../../scripts/services/activemq';
import type { LocalMariaDb } from '../../scripts/services/mariadb';
import type { LocalS3 } from '../../scripts/services/s3';
import { DlqIo, runDlqCommand } from '../../worker/src/ops/dlq';
import { StompConnection } from '../../core/src/queue/stomp';
import { privateActiveMq, sharedMariaDb, sharedS3 } from '../helpers/services';
import { startSsmServer } from '../helpers/ssmServer';
import { collect, connectTo } from '../helpers/stompProbe';
import { CopyObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { dbRows, prepareRequest, s3Client, seedProblems, startWorker } from '../helpers/workerHarness';

const ROOT = path.join(__dirname, '../..');

async function eventually<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what}: still ${JSON.stringify(last)} after ${timeoutMs} ms`);
}

describe('grading-stack dlq (real ActiveMQ)', function () {
  this.timeout(180_000);
  let broker: LocalActiveMq;
  let conn: StompConnection;

  /** Runs a dlq command in-process; answers a purge prompt with `answer` (no prompt when undefined). */
  const dlq = async (argv: string[], answer?: boolean) => {
    let out = '';
    let err = '';
    const questions: string[] = [];
    const io: DlqIo = {
      out: (t) => void (out += t),
      err: (t) => void (err += t),
      confirm: answer === undefined ? undefined : async (q) => (questions.push(q), answer),
      env: broker.env(),
    };
    const code = await runDlqCommand(argv, io);
    return { code, out, err, questions };
  };
  const listed = async () =>
    JSON.parse((await dlq(['list', '--json'])).out) as Array<{
      messageId: string;
      reason: string;
      originalDestination: string;
      requestId?: string;
      failedAt?: string;
    }>;

  before(async () => {
    broker = await privateActiveMq('dlq-tools', { broker: { maximumRedeliveries: 0 } });
    conn = await connectTo(broker);
    // As the worker dead-letters (worker.ts deadLetter()): reason, detail, original destination.
    await conn.send('/queue/grading-dlq', '{not json', {
      persistent: 'true',
      'x-error-reason': 'invalid-json',
      'x-error-detail': 'Unexpected token n',
      'x-original-destination': '/queue/grading-requests',
      'x-failed-at': new Date(Date.now() - 3 * 3600_000).toISOString(),
    });
    await conn.send('/queue/grading-dlq', '{"requestId":"req_schema"}', {
      persistent: 'true',
      'correlation-id': 'req_schema',
      'x-error-reason': 'schema-validation',
      'x-error-detail': 'language: is required',
      'x-original-destination': '/queue/grading-requests',
      'x-failed-at': new Date().toISOString(),
    });
    // As the broker dead-letters: a NACKed priority request past maximumRedeliveries (0 here).
    await conn.send('/queue/grading-priority', '{"requestId":"req_poison"}', { persistent: 'true', 'correlation-id': 'req_poison' });
    await new Promise<void>((resolve) => {
      const sub = conn.subscribe(
        '/queue/grading-priority',
        { ack: 'client-individual', prefetch: 1 },
        (m) => void conn.nack(m).then(() => (sub.unsubscribe(), resolve())),
      );
    });
    await eventually('three dead letters', listed, (l) => l.length === 3);
  });

  after(async () => {
    await conn?.close();
    await broker?.stop();
  });

  it('lists every dead letter with its reason, origin and age, and leaves them in the queue', async () => {
    const { code, out } = await dlq(['list']);
    assert.equal(code, 0);
    assert.match(out, /^MESSAGE ID +AGE +REASON +FROM +REQUEST +DETAIL$/m);
    assert.match(out, /ID:\S+ +3h +invalid-json +\/queue\/grading-requests +- +Unexpected token n/);
    assert.match(out, /ID:\S+ +\d+s +schema-validation +\/queue\/grading-requests +req_schema +language: is required/);
    assert.match(out, /ID:\S+ +\d+s +broker-redelivery-limit +\/queue\/grading-priority +req_poison/);
    assert.match(out, /3 message\(s\) in \/queue\/grading-dlq/);
    assert.equal((await listed()).length, 3, 'listing consumed nothing');
  });

  it('shows one dead letter with headers and body', async () => {
    const poison = (await listed()).find((l) => l.requestId === 'req_poison')!;
    const { code, out } = await dlq(['show', poison.messageId]);
    assert.equal(code, 0);
    assert.match(out, /^reason: broker-redelivery-limit$/m);
    assert.match(out, /^ {2}original-destination: \/queue\/grading-priority$/m);
    assert.match(out, /"requestId": "req_poison"/);
    assert.equal((await dlq(['show', 'ID:nope'])).code, 1);
  });

  it('replays a chosen dead letter to its original queue, marked as a replay', async () => {
    const poison = (await listed()).find((l) => l.requestId === 'req_poison')!;
    const arrived = collect(conn, '/queue/grading-priority', 1, 30_000);
    const { code, out } = await dlq(['replay', poison.messageId]);
    assert.equal(code, 0, out);
    assert.match(out, /replayed ID:\S+ \(req_poison\) to \/queue\/grading-priority/);
    const [message] = await arrived;
    assert.equal(message.body, '{"requestId":"req_poison"}');
    assert.deepEqual(
      [message.headers['x-dlq-replay'], message.headers['x-replayed-from'], message.headers['correlation-id'], message.headers.persistent],
      ['true', poison.messageId, 'req_poison', 'true'],
    );
    assert.deepEqual((await listed()).map((l) => l.requestId ?? l.reason).sort(), ['invalid-json', 'req_schema']);
  });

  it('purges only after confirmation (or --yes), and only what was chosen', async () => {
    const noTerminal = await dlq(['purge', '--all']);
    assert.equal(noTerminal.code, 2);
    assert.match(noTerminal.err, /confirm with --yes/);
    const declined = await dlq(['purge', '--all'], false);
    assert.deepEqual([declined.code, declined.questions], [1, ['Delete 2 message(s) from /queue/grading-dlq for good? [y/N] ']]);
    assert.equal((await listed()).length, 2);
    const purged = await dlq(['purge', '--reason', 'invalid-json', '--yes']);
    assert.equal(purged.code, 0, purged.err);
    assert.deepEqual(
      (await listed()).map((l) => l.reason),
      ['schema-validation'],
    );
    const confirmed = await dlq(['purge', '--all'], true);
    assert.equal(confirmed.code, 0);
    assert.deepEqual(await listed(), []);
  });

  it('refuses bad arguments with the usage', async () => {
    const { code, err } = await dlq(['replay']);
    assert.equal(code, 2);
    assert.match(err, /replay needs message ids, --all or --reason/);
    assert.match(err, /usage: grading-stack dlq/);
  });

  it('reads the broker and its credentials from SSM with --env, as on AWS', async () => {
    const ssm = await startSsmServer({
      '/qa/mq/broker-endpoint': { value: broker.env().MQ_ENDPOINTS },
      '/qa/mq/username': { value: broker.username },
      '/qa/mq/password': { value: broker.password, secure: true },
    });
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SSM: ssm.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    });
    try {
      let out = '';
      const env = { AWS_REGION: 'us-east-1', MQ_TLS_CA: broker.env().MQ_TLS_CA };
      const code = await runDlqCommand(['list', '--env', 'qa'], { out: (t) => void (out += t), err: (t) => void (out += t), env });
      assert.equal(code, 0, out);
      assert.match(out, /\/queue\/grading-dlq is empty/);
      assert.deepEqual([...ssm.asked].sort(), ['/qa/mq/broker-endpoint', '/qa/mq/password', '/qa/mq/username']);
      await assert.rejects(
        runDlqCommand(['list', '--env', 'nope'], { out: () => undefined, err: () => undefined, env: {} }),
        /SSM parameter \/nope\/mq\/broker-endpoint does not exist/,
      );
    } finally {
      for (const key of ['AWS_ENDPOINT_URL_SSM', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
      await ssm.close();
    }
  });

  it('runs as grading-stack dlq from the command line', async () => {
    const run = promisify(execFile);
    const { stdout } = await run(process.execPath, [path.join(ROOT, 'bin/grading-stack.js'), 'dlq', 'list'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH!, ...broker.env() },
    });
    assert.match(stdout, /\/queue\/grading-dlq is empty/);
  });

  describe('replay after a fix, through the real worker', () => {
    let db: LocalMariaDb;
    let s3: LocalS3;

    it('grades a request that failed for a missing problem once the problem exists and it is replayed', async () => {
      [db, s3] = await Promise.all([sharedMariaDb(), sharedS3()]);
      const worker = await startWorker({ broker, db, s3 });
      try {
        const request = await prepareRequest(s3, {
          problemId: 'sum',
          language: 'python',
          source: 'a, b = map(int, input().split())\nprint(a + b)\n',
        });
        const missing = { ...request, problemId: 'later', testCases: request.testCases.replace('/problems/sum/', '/problems/later/') };
        await conn.send('/queue/grading-requests', JSON.stringify(missing), { persistent: 'true', 'correlation-id': missing.requestId });
        const [dead] = await eventually('dead-lettered', listed, (l) => l.some((d) => d.requestId === missing.requestId));
        assert.equal(dead.reason, 'invalid-problem-or-source');
        assert.equal((await dbRows(db, missing.requestId))[0].status, 'failed');

        // The fix: the problem's test cases are uploaded (a copy of the sample "sum").
        await seedProblems(s3);
        await seedAs(s3, 'sum', 'later');
        assert.equal((await dlq(['replay', dead.messageId])).code, 0);
        const [row] = await eventually(
          'graded again',
          () => dbRows(db, missing.requestId),
          (rows) => rows[0]?.status === 'completed',
        );
        assert.equal(row.verdict, 'AC');
        assert.deepEqual(await listed(), []);
      } finally {
        await worker.stop('SIGKILL');
      }
    });
  });
});

/** Copies problems/<from>/ to problems/<to>/ in the bucket. */
async function seedAs(s3: LocalS3, from: string, to: string): Promise<void> {
  const client = s3Client(s3);
  const listing = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `problems/${from}/` }));
  for (const object of listing.Contents ?? []) {
    await client.send(
      new CopyObjectCommand({
        Bucket: s3.bucket,
        CopySource: `${s3.bucket}/${object.Key}`,
        Key: object.Key!.replace(`problems/${from}/`, `problems/${to}/`),
      }),
    );
  }
}
