import assert from 'node:assert/strict';
import { gatewayConfigFromEnv } from '../../web/src/config';

const local = {
  MQ_ENDPOINTS: 'stomp://127.0.0.1:61613',
  MQ_USERNAME: 'grader',
  MQ_PASSWORD: 'pw',
  DB_HOST: '127.0.0.1',
  DB_PORT: '3307',
  DB_USERNAME: 'grader',
  DB_PASSWORD: 'dbpw',
  GRADING_BUCKET: 'local-grading-files',
};
const noSsm = async (name: string): Promise<string> => {
  throw new Error(`unexpected SSM read of ${name}`);
};

describe('web gateway config', () => {
  it('reads plain values with the documented defaults', async () => {
    const c = await gatewayConfigFromEnv(local, noSsm);
    assert.equal(c.port, 3000);
    assert.deepEqual(c.db, { host: '127.0.0.1', port: 3307, database: 'grading', username: 'grader', password: 'dbpw' });
    assert.deepEqual(c.destinations, { requests: '/queue/grading-requests', priority: '/queue/grading-priority', progress: '/topic/grading-progress' });
    assert.deepEqual(c.userRateLimit, { capacity: 5, refillPerSecond: 10 / 60 });
    assert.equal(c.maxSourceBytes, 65536);
    assert.equal(c.s3.forcePathStyle, false);
  });

  it('reads secrets and endpoints from SSM parameters when only their names are given', async () => {
    const params: Record<string, string> = { '/prod/mq/broker-endpoint': 'stomp+ssl://b-1:61614,stomp+ssl://b-2:61614', '/prod/mq/password': 's3cret', '/prod/db/endpoint': 'db.internal:3306', '/prod/db/password': 'dbs3cret' };
    const reads: string[] = [];
    const c = await gatewayConfigFromEnv(
      { MQ_ENDPOINT_PARAM: '/prod/mq/broker-endpoint', MQ_USERNAME: 'grader', MQ_PASSWORD_PARAM: '/prod/mq/password', DB_ENDPOINT_PARAM: '/prod/db/endpoint', DB_USERNAME: 'app', DB_PASSWORD_PARAM: '/prod/db/password', GRADING_BUCKET: 'prod-grading-files' },
      async (name) => {
        reads.push(name);
        return params[name];
      },
    );
    assert.equal(c.mq.endpoints, params['/prod/mq/broker-endpoint']);
    assert.equal(c.mq.password, 's3cret');
    assert.equal(c.db.host, 'db.internal');
    assert.equal(c.db.port, 3306);
    assert.equal(reads.length, 4);
  });

  it('lets the plain value win over the SSM name', async () => {
    const c = await gatewayConfigFromEnv({ ...local, MQ_PASSWORD_PARAM: '/x' }, noSsm);
    assert.equal(c.mq.password, 'pw');
  });

  it('reports every problem at once, naming the variables', async () => {
    await assert.rejects(
      gatewayConfigFromEnv({ PORT: 'eighty', RATE_LIMIT_BURST: '0', TRUST_PROXY: 'maybe', DB_PASSWORD_PARAM: '/gone' }, async () => {
        throw new Error('ParameterNotFound');
      }),
      (error: Error) => {
        for (const name of ['MQ_ENDPOINTS', 'DB_HOST', 'DB_USERNAME', 'DB_PASSWORD_PARAM', 'GRADING_BUCKET', 'PORT', 'RATE_LIMIT_BURST', 'TRUST_PROXY']) {
          assert.match(error.message, new RegExp(name), name);
        }
        return true;
      },
    );
  });

  it('never puts secret values in its error messages', async () => {
    await assert.rejects(gatewayConfigFromEnv({ ...local, PORT: '-1' }, noSsm), (error: Error) => /PORT/.test(error.message) && !error.message.includes('dbpw'));
  });
});
