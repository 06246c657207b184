import assert from 'node:assert/strict';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { parseWorkerConfig, resolveSsmParameters, WorkerConfigError } from '../../worker/src/config';

const LOCAL = { MQ_ENDPOINTS: 'stomp://127.0.0.1:61613', DB_HOST: '127.0.0.1', DB_PORT: '3307', DB_USERNAME: 'u', DB_PASSWORD: 'p', GRADING_BUCKET: 'local-grading-files' };

describe('worker config', () => {
  it('reads a local setup from plain env vars, with defaults', () => {
    const cfg = parseWorkerConfig(LOCAL);
    assert.deepEqual(cfg.mq.endpoints, [{ host: '127.0.0.1', port: 61613, ssl: false }]);
    assert.equal(cfg.db.port, 3307);
    assert.equal(cfg.db.ssl, false);
    assert.equal(cfg.queues.requests, '/queue/grading-requests');
    assert.equal(cfg.queues.progress, '/topic/grading-progress');
    assert.equal(cfg.concurrency, 2);
    assert.equal(cfg.executor.kind, 'sandbox');
  });

  it('parses active/standby TLS endpoints and host:port database endpoints, with TLS to RDS', () => {
    const cfg = parseWorkerConfig({ ...LOCAL, MQ_ENDPOINTS: 'stomp+ssl://b-1.mq.aws:61614,stomp+ssl://b-2.mq.aws:61614', DB_HOST: 'db.rds.aws:3306', DB_PORT: undefined });
    assert.deepEqual(cfg.mq.endpoints.map((e) => [e.host, e.ssl]), [['b-1.mq.aws', true], ['b-2.mq.aws', true]]);
    assert.deepEqual([cfg.db.host, cfg.db.port, cfg.db.ssl], ['db.rds.aws', 3306, true]);
  });

  it('names every missing or invalid setting at once', () => {
    assert.throws(
      () => parseWorkerConfig({ MQ_ENDPOINTS: 'amqp://x:1', WORKER_CONCURRENCY: 'lots', EXECUTOR: 'judge0' }),
      (e: Error) =>
        e instanceof WorkerConfigError &&
        ['MQ_ENDPOINTS: Invalid STOMP endpoint', 'DB_HOST is required', 'DB_USERNAME is required', 'DB_PASSWORD is required', 'GRADING_BUCKET is required', 'WORKER_CONCURRENCY must be an integer', 'JUDGE0_ENDPOINT is required'].every((s) => e.message.includes(s)),
    );
  });

  it('fills values from SSM parameters named by *_PARAM, decrypted, in one call', async () => {
    const calls: Array<{ Names: string[]; WithDecryption: boolean }> = [];
    const ssm = {
      send: async (command: { input: { Names: string[]; WithDecryption: boolean } }) => {
        calls.push(command.input);
        return { Parameters: command.input.Names.map((n) => ({ Name: n, Value: `value-of-${n}` })), InvalidParameters: [] };
      },
    } as unknown as SSMClient;
    const env = await resolveSsmParameters({ MQ_ENDPOINT_PARAM: '/prod/mq/broker-endpoint', MQ_PASSWORD_PARAM: '/prod/mq/password', DB_PASSWORD: 'plain-wins', DB_PASSWORD_PARAM: '/prod/db/password' }, ssm);
    assert.equal(calls.length, 1);
    assert.equal(calls[0].WithDecryption, true);
    assert.deepEqual(calls[0].Names.sort(), ['/prod/mq/broker-endpoint', '/prod/mq/password']);
    assert.equal(env.MQ_PASSWORD, 'value-of-/prod/mq/password');
    assert.equal(env.DB_PASSWORD, 'plain-wins');
  });

  it('says which SSM parameter is missing', async () => {
    const ssm = { send: async () => ({ Parameters: [], InvalidParameters: ['/prod/db/password'] }) } as unknown as SSMClient;
    await assert.rejects(resolveSsmParameters({ DB_PASSWORD_PARAM: '/prod/db/password' }, ssm), /SSM parameter \/prod\/db\/password does not exist/);
  });
});
