/**
 * A site's JMS client against the real worker: ActiveMQ's own JMS client (Debian libactivemq-java)
 * over OpenWire, request/reply the way Spring's sendAndReceive does it (TextMessage, a temporary
 * queue as JMSReplyTo, JMSPriority). Checks the exactly-one-outcome rule on grading-results with
 * JMS selectors on the selector-safe properties, and every received result against the published
 * schemas in docs/contracts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LocalActiveMq } from '../../scripts/services/activemq';
import type { LocalMariaDb } from '../../scripts/services/mariadb';
import type { LocalS3 } from '../../scripts/services/s3';
import { privateActiveMq, sharedMariaDb, sharedS3 } from '../helpers/services';
import { E2E_BROKER_USERS } from '../helpers/tierUsers';
import { prepareRequest, seedProblems, startWorker, WorkerProcess } from '../helpers/workerHarness';
import { assertPublishedResult } from './contractSchemas';
import { DUPLICATE_LOGGED, LineProcess, workerLogged } from './lineProcess';

// Debian libactivemq-java and its dependencies (scripts/install-system-deps.sh installs them).
const JARS = ['activemq-client', 'geronimo-jms_1.1_spec', 'geronimo-j2ee-management-1.1-spec', 'hawtbuf', 'slf4j-api', 'slf4j-nop'].map(
  (jar) => `/usr/share/java/${jar}.jar`,
);
const SOURCE = path.join(__dirname, 'jms/GradingJmsClient.java');
const ACCEPTED = 'a, b = map(int, input().split())\nprint(a + b)\n';

class JmsClient {
  constructor(
    private readonly proc: LineProcess,
    private readonly dir: string,
  ) {}

  /** Sends a TextMessage with a temporary reply queue; returns its JMSMessageID. */
  async send(name: string, body: string, opts: { priority?: number; correlationId?: string; queue?: string } = {}): Promise<string> {
    const file = path.join(this.dir, `${name}.json`);
    fs.writeFileSync(file, body);
    this.proc.send(['send', name, opts.queue ?? 'grading-requests', file, String(opts.priority ?? 4), opts.correlationId ?? ''].join('\t'));
    const [kind, , messageId] = (await this.proc.next(30_000)).split('\t');
    assert.equal(kind, 'SENT');
    return messageId;
  }

  /** The reply on the request's JMSReplyTo. */
  async reply(name: string, timeoutMs = 90_000): Promise<{ type: string; correlationId: string; body: Record<string, unknown> }> {
    this.proc.send(`await\t${name}\t${timeoutMs}`);
    const [kind, , type, correlationId, body] = (await this.proc.next(timeoutMs + 10_000)).split('\t');
    assert.equal(kind, 'REPLY', `a reply for ${name}`);
    return { type, correlationId, body: JSON.parse(body) };
  }

  /** The requester gives up: closes its consumer and deletes the temporary reply queue. */
  async forget(name: string): Promise<void> {
    this.proc.send(`forget\t${name}`);
    assert.equal((await this.proc.next(30_000)).split('\t')[0], 'FORGOTTEN');
  }

  /** Every message on the queue that the JMS selector picks (a QueueBrowser: nothing is consumed). */
  async browse(queue: string, selector: string): Promise<Array<{ type: string; correlationId: string; reason: string; body: string }>> {
    this.proc.send(`browse\t${queue}\t${selector}`);
    const found = [];
    for (;;) {
      const [kind, ...fields] = (await this.proc.next(30_000)).split('\t');
      if (kind === 'END') return found;
      assert.equal(kind, 'BROWSED', fields.join(' '));
      const [type, correlationId, reason, body] = fields;
      found.push({ type, correlationId, reason, body });
    }
  }
}

describe('interop: ActiveMQ JMS client over OpenWire', function () {
  this.timeout(300_000);
  let broker: LocalActiveMq;
  let db: LocalMariaDb;
  let s3: LocalS3;
  let worker: WorkerProcess;
  let proc: LineProcess;
  let jms: JmsClient;
  let dir: string;

  const resultsFor = (requestId: string) => jms.browse('grading-results', `grading_request_id = '${requestId}'`);

  before(async () => {
    const missing = JARS.filter((j) => !fs.existsSync(j));
    if (missing.length)
      throw new Error(`missing ${missing.join(', ')}: apt-get install libactivemq-java (see scripts/install-system-deps.sh)`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'interop-jms-'));
    execFileSync('javac', ['-cp', JARS.join(':'), '-d', dir, SOURCE]);
    // The tier users too: the last test runs the site's client and the worker with their own rights.
    [broker, db, s3] = await Promise.all([privateActiveMq('interop-jms', { users: E2E_BROKER_USERS }), sharedMariaDb(), sharedS3()]);
    await seedProblems(s3);
    worker = await startWorker({ broker, db, s3 });
    const classpath = [dir, ...JARS].join(':');
    proc = await LineProcess.start('java', [
      '-cp',
      classpath,
      'GradingJmsClient',
      `tcp://127.0.0.1:${broker.openwirePort}`,
      broker.username,
      broker.password,
    ]);
    jms = new JmsClient(proc, dir);
  });

  after(async () => {
    await proc?.stop();
    await worker?.stop('SIGKILL');
    await broker?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers a sendAndReceive-style request with one TextMessage reply, correlated by JMSMessageID', async () => {
    const request = await prepareRequest(s3, { problemId: 'sum', language: 'python', source: ACCEPTED + '# jms 1\n' });
    const messageId = await jms.send('first', JSON.stringify(request), { priority: 7 });
    const reply = await jms.reply('first');
    assert.equal(reply.type, 'TextMessage', 'a typed client reads text, not bytes');
    assert.equal(reply.correlationId, messageId, 'no JMSCorrelationID on the request: its JMSMessageID');
    assertPublishedResult(reply.body);
    assert.equal(reply.body.status, 'completed');
    assert.equal((reply.body.result as { verdict: string }).verdict, 'AC');
    assert.equal((reply.body.result as { score: number }).score, 100);
    const published = await resultsFor(request.requestId);
    assert.equal(published.length, 1, 'one message on grading-results');
    assert.deepEqual(JSON.parse(published[0].body), reply.body);
    assert.equal(published[0].correlationId, request.requestId);
  });

  it("echoes the request's JMSCorrelationID on the reply", async () => {
    const request = await prepareRequest(s3, { problemId: 'sum', language: 'python', source: ACCEPTED + '# jms 2\n' });
    await jms.send('correlated', JSON.stringify(request), { correlationId: 'site-order-42' });
    const reply = await jms.reply('correlated');
    assert.equal(reply.correlationId, 'site-order-42');
    assertPublishedResult(reply.body);
  });

  it('gives a schema-invalid request with a readable requestId one failed result, and a DLQ copy selectable by reason', async () => {
    const request = await prepareRequest(s3, { problemId: 'sum', language: 'python', source: ACCEPTED });
    const body = JSON.stringify({ ...request, language: 'cobol', memoryLimit: 1.5 });
    await jms.send('invalid', body);
    const reply = await jms.reply('invalid');
    assertPublishedResult(reply.body);
    assert.equal(reply.body.status, 'failed');
    assert.equal(reply.body.reason, 'schema-validation');
    assert.match(String(reply.body.error), /language: "cobol" is not one of/);
    assert.equal((await resultsFor(request.requestId)).length, 1);
    const dead = await jms.browse(
      'grading-dlq',
      `grading_request_id = '${request.requestId}' AND grading_error_reason = 'schema-validation'`,
    );
    assert.equal(dead.length, 1, 'selector-safe DLQ properties work in a JMS selector');
    assert.equal(dead[0].body, body, 'the DLQ keeps the original');
  });

  it('fails a reused requestId with other content and keeps the first result', async () => {
    const request = await prepareRequest(s3, { problemId: 'sum', language: 'python', source: ACCEPTED + '# jms 3\n' });
    await jms.send('original', JSON.stringify(request));
    assert.equal((await jms.reply('original')).body.status, 'completed');
    await jms.send('reuse', JSON.stringify({ ...request, memoryLimit: 128 }));
    const reply = await jms.reply('reuse');
    assertPublishedResult(reply.body);
    assert.equal(reply.body.reason, 'request-id-reused');
    const published = (await resultsFor(request.requestId)).map((m) => JSON.parse(m.body));
    assert.deepEqual(published.map((r) => r.status).sort(), ['completed', 'failed'], 'one outcome per request: the first and the reuse');
    const dead = await jms.browse(
      'grading-dlq',
      `grading_request_id = '${request.requestId}' AND grading_error_reason = 'request-id-reused'`,
    );
    assert.equal(dead.length, 1);
  });

  it('publishes nothing more for a duplicate of a finished request', async () => {
    const request = await prepareRequest(s3, { problemId: 'sum', language: 'python', source: ACCEPTED + '# jms 4\n' });
    await jms.send('once', JSON.stringify(request));
    await jms.reply('once');
    await jms.send('again', JSON.stringify(request));
    await workerLogged(worker, request.requestId, DUPLICATE_LOGGED);
    assert.equal((await resultsFor(request.requestId)).length, 1);
  });

  it('survives a reply-to whose temporary queue is gone: the result is still on grading-results, the connection stays', async () => {
    await worker.stop('SIGTERM');
    const orphan = await prepareRequest(s3, { problemId: 'sum', language: 'python', source: ACCEPTED + '# orphan\n' });
    await jms.send('orphan', JSON.stringify(orphan));
    await jms.forget('orphan');
    // One at a time: the next request's reply means the orphan was handled completely.
    worker = await startWorker({ broker, db, s3 }, { WORKER_CONCURRENCY: '1' });
    const after = await prepareRequest(s3, { problemId: 'sum', language: 'python', source: ACCEPTED + '# after orphan\n' });
    await jms.send('after-orphan', JSON.stringify(after));
    assert.equal((await jms.reply('after-orphan')).body.status, 'completed');
    const published = await resultsFor(orphan.requestId);
    assert.equal(published.length, 1);
    assert.equal(JSON.parse(published[0].body).status, 'completed');
    const lines = worker.output().split('\n');
    assert.ok(
      lines.some((l) => l.includes('could not send the result to reply-to') && l.includes(orphan.requestId)),
      'the reply was refused',
    );
    const lost = lines.filter((l) => l.includes('broker connection lost') && !l.includes('"connection":"replies"'));
    assert.deepEqual(lost, [], 'a dead reply-to must not cost the consuming connection');
  });

  it('takes a higher JMSPriority first within grading-requests', async () => {
    await worker.stop('SIGTERM');
    const low = await prepareRequest(s3, { problemId: 'sum', language: 'python', source: ACCEPTED + '# low\n' });
    const high = await prepareRequest(s3, { problemId: 'sum', language: 'python', source: ACCEPTED + '# high\n' });
    await jms.send('low', JSON.stringify(low), { priority: 1 });
    await jms.send('high', JSON.stringify(high), { priority: 9 });
    worker = await startWorker({ broker, db, s3 }, { WORKER_CONCURRENCY: '1' });
    const lowReply = await jms.reply('low');
    const highReply = await jms.reply('high');
    const [highAt, lowAt] = [String(highReply.body.timestamp), String(lowReply.body.timestamp)];
    assert.ok(highAt < lowAt, `graded first: high ${highAt}, low ${lowAt}`);
  });

  it('answers sendAndReceive for a gateway-tier user, not an operator, with the worker on its own tier user', async () => {
    const [gatewayUser, workerUser] = E2E_BROKER_USERS;
    await worker.stop('SIGTERM');
    worker = await startWorker({ broker, db, s3 }, { MQ_USERNAME: workerUser.username, MQ_PASSWORD: workerUser.password });
    const classpath = [dir, ...JARS].join(':');
    const url = `tcp://127.0.0.1:${broker.openwirePort}`;
    const site = await LineProcess.start('java', ['-cp', classpath, 'GradingJmsClient', url, gatewayUser.username, gatewayUser.password]);
    try {
      const client = new JmsClient(site, dir);
      const request = await prepareRequest(s3, { problemId: 'sum', language: 'python', source: ACCEPTED + '# gateway tier\n' });
      // Creating the temporary reply queue needs admin on temporary destinations, the worker's reply write.
      const messageId = await client.send('tier', JSON.stringify(request));
      const reply = await client.reply('tier');
      assert.equal(reply.correlationId, messageId);
      assertPublishedResult(reply.body);
      assert.equal(reply.body.status, 'completed');
      assert.equal((await resultsFor(request.requestId)).length, 1, 'and one message on grading-results');
    } finally {
      await site.stop();
    }
  });
});
