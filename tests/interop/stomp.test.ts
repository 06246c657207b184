/**
 * A site's STOMP client against the real worker: stomp.py (Debian python3-stomp, run with
 * /usr/bin/python3), replies on a temporary queue named in reply-to. Checks the exactly-one-outcome
 * rule (selectors on the selector-safe properties) and every received result against the published
 * schemas in docs/contracts. The connection comes from the broker handle, TLS included.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LocalActiveMq } from '../../scripts/services/activemq';
import { parseEndpoints } from '../../core/src/queue/stomp';
import { privateActiveMq, sharedMariaDb, sharedS3 } from '../helpers/services';
import { prepareRequest, seedProblems, startWorker, WorkerProcess } from '../helpers/workerHarness';
import type { LocalS3 } from '../../scripts/services/s3';
import { assertPublishedResult } from './contractSchemas';
import { DUPLICATE_LOGGED, LineProcess, workerLogged } from './lineProcess';

const PYTHON = '/usr/bin/python3';
const CLIENT = path.join(__dirname, 'stomp/grading_client.py');
const ACCEPTED = 'a, b = map(int, input().split())\nprint(a + b)\n';

interface Frame {
  headers: Record<string, string>;
  body: string;
}

/** The stomp.py program's environment, from the broker handle's own connection settings. */
function clientEnv(broker: LocalActiveMq): NodeJS.ProcessEnv {
  const env = broker.env();
  const [endpoint] = parseEndpoints(env.MQ_ENDPOINTS);
  return {
    PATH: process.env.PATH,
    GRADING_MQ_HOST: endpoint.host,
    GRADING_MQ_PORT: String(endpoint.port),
    GRADING_MQ_SSL: endpoint.ssl ? '1' : '0',
    GRADING_MQ_CA_FILE: env.MQ_TLS_CA,
    GRADING_MQ_USERNAME: env.MQ_USERNAME,
    GRADING_MQ_PASSWORD: env.MQ_PASSWORD,
  };
}

describe('interop: stomp.py over STOMP', function () {
  this.timeout(300_000);
  let broker: LocalActiveMq;
  let s3: LocalS3;
  let worker: WorkerProcess;
  let client: LineProcess;

  const command = async (cmd: Record<string, unknown>, timeoutMs = 120_000) => {
    client.send(JSON.stringify(cmd));
    const answer = JSON.parse(await client.next(timeoutMs));
    assert.notEqual(answer.event, 'error', answer.error);
    return answer;
  };
  const send = (body: string, correlationId: string) => command({ cmd: 'send', body, correlationId });
  const reply = async (correlationId: string): Promise<{ headers: Record<string, string>; result: Record<string, unknown> }> => {
    const answer = await command({ cmd: 'await', correlationId, timeout: 90 });
    assert.equal(answer.event, 'reply', `a reply correlated ${correlationId}`);
    const result = JSON.parse(answer.body);
    assertPublishedResult(result);
    return { headers: answer.headers, result };
  };
  /** Everything on a queue that the selector picks (consumed up to a sentinel the client sends behind it). */
  const drain = async (queue: string, match: Record<string, string>): Promise<Frame[]> => {
    const selector = Object.entries(match)
      .map(([k, v]) => `${k} = '${v}'`)
      .join(' AND ');
    const answer = await command({ cmd: 'drain', destination: `/queue/${queue}`, selector, sentinelHeaders: match, timeout: 30 });
    assert.equal(answer.event, 'drained');
    return answer.messages;
  };

  before(async () => {
    if (!fs.existsSync(PYTHON)) throw new Error(`${PYTHON} missing: apt-get install python3-stomp (see scripts/install-system-deps.sh)`);
    let db;
    [broker, db, s3] = await Promise.all([privateActiveMq('interop-stomp'), sharedMariaDb(), sharedS3()]);
    await seedProblems(s3);
    worker = await startWorker({ broker, db, s3 });
    client = await LineProcess.start(PYTHON, [CLIENT], clientEnv(broker));
  });

  after(async () => {
    await client?.stop();
    await worker?.stop('SIGKILL');
    await broker?.stop();
  });

  it('sends the result to reply-to, correlated, and once to grading-results', async () => {
    const request = await prepareRequest(s3, { problemId: 'sum', language: 'python', source: ACCEPTED + '# stomp 1\n' });
    await send(JSON.stringify(request), 'py-1');
    const { headers, result } = await reply('py-1');
    assert.equal(result.status, 'completed');
    assert.equal((result.result as { verdict: string }).verdict, 'AC');
    assert.equal(headers.grading_request_id, request.requestId);
    const published = await drain('grading-results', { grading_request_id: request.requestId });
    assert.equal(published.length, 1);
    assert.deepEqual(JSON.parse(published[0].body), result);
    assert.equal(published[0].headers['correlation-id'], request.requestId);
  });

  it('answers schema-invalid and broken-JSON requests with a readable requestId with one failed result each', async () => {
    const request = await prepareRequest(s3, { problemId: 'sum', language: 'python', source: ACCEPTED });
    const schemaId = `${request.requestId}_s`;
    const jsonId = `${request.requestId}_j`;
    const invalid = JSON.stringify({ ...request, requestId: schemaId, timeLimit: 'soon' });
    await send(invalid, 'py-schema');
    await send(`{"requestId": "${jsonId}", "language": "python", `, 'py-json');
    const schema = (await reply('py-schema')).result;
    assert.equal(schema.reason, 'schema-validation');
    assert.match(String(schema.error), /timeLimit: must be integer/);
    assert.equal((await reply('py-json')).result.reason, 'invalid-json');
    for (const id of [schemaId, jsonId]) assert.equal((await drain('grading-results', { grading_request_id: id })).length, 1, id);
    const dead = await drain('grading-dlq', { grading_request_id: schemaId, grading_error_reason: 'schema-validation' });
    assert.equal(dead.length, 1);
    assert.equal(dead[0].body, invalid, 'the DLQ keeps the original');
  });

  it('fails a reused requestId (other source under the same key) and publishes nothing for a duplicate', async () => {
    const request = await prepareRequest(s3, { problemId: 'sum', language: 'python', source: ACCEPTED + '# stomp 2\n' });
    await send(JSON.stringify(request), 'py-first');
    assert.equal((await reply('py-first')).result.status, 'completed');
    await send(JSON.stringify(request), 'py-duplicate');
    await workerLogged(worker, request.requestId, DUPLICATE_LOGGED);

    await prepareRequest(s3, { requestId: request.requestId, problemId: 'sum', language: 'python', source: 'print("other code")\n' });
    await send(JSON.stringify(request), 'py-reuse');
    const reused = (await reply('py-reuse')).result;
    assert.equal(reused.reason, 'request-id-reused');
    assert.match(String(reused.error), /the source differs/);

    const published = (await drain('grading-results', { grading_request_id: request.requestId })).map((m) => JSON.parse(m.body));
    assert.deepEqual(
      published.map((r) => r.reason ?? r.status),
      ['completed', 'request-id-reused'],
      'the first result, nothing for the duplicate, one failure for the reuse',
    );
  });
});
