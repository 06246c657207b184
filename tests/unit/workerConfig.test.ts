import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SSMClient } from '@aws-sdk/client-ssm';
import mysql from 'mysql2';
import { ensureLocalTls } from '../../scripts/services/tls';
import { ConfigError, resolveSsmParameters } from '../../core/src/config';
import { parseWorkerConfig, WORKER_PARAMETERS } from '../../worker/src/config';
import { mysqlTls } from '../../core/src/results/mysqlStore';

const LOCAL = {
  MQ_ENDPOINTS: 'stomp+ssl://127.0.0.1:61614',
  DB_HOST: '127.0.0.1',
  DB_PORT: '3307',
  DB_USERNAME: 'u',
  DB_PASSWORD: 'p',
  GRADING_BUCKET: 'local-grading-files',
};

describe('worker config', () => {
  it('reads a local setup from plain env vars, with defaults', () => {
    const cfg = parseWorkerConfig(LOCAL);
    assert.deepEqual(cfg.mq.endpoints, [{ host: '127.0.0.1', port: 61614, ssl: true }]);
    assert.equal(cfg.db.port, 3307);
    assert.equal(cfg.db.ca, undefined, 'no CA given: the RDS bundle');
    assert.equal(cfg.mq.ca, undefined, 'no CA given: the public CAs');
    assert.equal(cfg.queues.requests, '/queue/grading-requests');
    assert.equal(cfg.queues.progress, '/topic/grading-progress');
    assert.equal(cfg.concurrency, 2);
    assert.equal(cfg.executor.kind, 'sandbox');
  });

  it('parses active/standby TLS endpoints and host:port database endpoints, with TLS to RDS', () => {
    const cfg = parseWorkerConfig({
      ...LOCAL,
      MQ_ENDPOINTS: 'stomp+ssl://b-1.mq.aws:61614,stomp+ssl://b-2.mq.aws:61614',
      DB_HOST: 'db.rds.aws:3306',
      DB_PORT: undefined,
    });
    assert.deepEqual(
      cfg.mq.endpoints.map((e) => [e.host, e.ssl]),
      [
        ['b-1.mq.aws', true],
        ['b-2.mq.aws', true],
      ],
    );
    assert.deepEqual([cfg.db.host, cfg.db.port], ['db.rds.aws', 3306]);
  });

  it('refuses plain STOMP and switching database TLS off: both would send passwords in clear', () => {
    assert.throws(
      () => parseWorkerConfig({ ...LOCAL, MQ_ENDPOINTS: 'stomp+ssl://b-1.mq.aws:61614,stomp://b-2.mq.aws:61613', DB_SSL: 'false' }),
      (e: Error) => /plain STOMP is refused \(b-2\.mq\.aws:61613\)/.test(e.message) && /DB_SSL=false is refused/.test(e.message),
    );
  });

  it('reads the CA bundles named by MQ_TLS_CA and DB_TLS_CA, and names an unreadable or empty one', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'worker-config-'));
    try {
      const tls = ensureLocalTls(path.join(dir, 'tls'));
      const cfg = parseWorkerConfig({ ...LOCAL, MQ_TLS_CA: tls.caFile, DB_TLS_CA: tls.caFile });
      assert.equal(cfg.mq.ca, fs.readFileSync(tls.caFile, 'utf8'));
      assert.equal(cfg.db.ca, cfg.mq.ca);
      fs.writeFileSync(path.join(dir, 'empty.pem'), '');
      assert.throws(
        () => parseWorkerConfig({ ...LOCAL, MQ_TLS_CA: path.join(dir, 'missing.pem'), DB_TLS_CA: path.join(dir, 'empty.pem') }),
        (e: Error) =>
          /MQ_TLS_CA: cannot read the CA bundle .*missing\.pem \(ENOENT\)/.test(e.message) &&
          /DB_TLS_CA: .*empty\.pem holds no PEM certificate/.test(e.message),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("trusts the Amazon RDS CA bundle when no DB_TLS_CA is given (Node's own store lacks it)", () => {
    // How mysql2 itself turns the option into the TLS settings of its connections (a pool connects lazily).
    const pool = mysql.createPool({ host: 'db.rds.aws', ssl: mysqlTls(undefined) });
    type PoolInternals = { config: { connectionConfig: { ssl: { ca: string[]; rejectUnauthorized: boolean } } } };
    const config = (pool as unknown as PoolInternals).config.connectionConfig;
    void pool.end();
    assert.equal(config.ssl.rejectUnauthorized, true);
    const subjects = config.ssl.ca.map((pem) => new X509Certificate(pem).subject);
    assert.ok(
      subjects.some((s) => /Amazon RDS .*Root/.test(s)),
      `no Amazon RDS root CA among ${subjects.length} certificates`,
    );
    assert.deepEqual(mysqlTls('PEM'), { ca: 'PEM', rejectUnauthorized: true, verifyIdentity: true });
  });

  it('names every missing or invalid setting at once', () => {
    assert.throws(
      () => parseWorkerConfig({ MQ_ENDPOINTS: 'amqp://x:1', WORKER_CONCURRENCY: 'lots', EXECUTOR: 'judge0' }),
      (e: Error) =>
        e instanceof ConfigError &&
        [
          'MQ_ENDPOINTS: Invalid STOMP endpoint',
          'DB_HOST is required',
          'DB_USERNAME is required',
          'DB_PASSWORD is required',
          'GRADING_BUCKET is required',
          'WORKER_CONCURRENCY must be an integer',
          'JUDGE0_ENDPOINT is required',
        ].every((s) => e.message.includes(s)),
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
    const env = await resolveSsmParameters(
      {
        MQ_ENDPOINT_PARAM: '/prod/mq/broker-endpoint',
        MQ_PASSWORD_PARAM: '/prod/mq/password',
        DB_PASSWORD: 'plain-wins',
        DB_PASSWORD_PARAM: '/prod/db/password',
      },
      ssm,
      WORKER_PARAMETERS,
    );
    assert.equal(calls.length, 1);
    assert.equal(calls[0].WithDecryption, true);
    assert.deepEqual(calls[0].Names.sort(), ['/prod/mq/broker-endpoint', '/prod/mq/password']);
    assert.equal(env.MQ_PASSWORD, 'value-of-/prod/mq/password');
    assert.equal(env.DB_PASSWORD, 'plain-wins');
  });

  it('says which SSM parameter is missing', async () => {
    const ssm = { send: async () => ({ Parameters: [], InvalidParameters: ['/prod/db/password'] }) } as unknown as SSMClient;
    await assert.rejects(
      resolveSsmParameters({ DB_PASSWORD_PARAM: '/prod/db/password' }, ssm, WORKER_PARAMETERS),
      /SSM parameter \/prod\/db\/password does not exist/,
    );
  });
});
