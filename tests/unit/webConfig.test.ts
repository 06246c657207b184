import assert from 'node:assert/strict';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { gatewayConfigFromEnv, parseGatewayConfig } from '../../web/src/config';

const local = {
  MQ_ENDPOINTS: 'stomp+ssl://127.0.0.1:61614',
  MQ_USERNAME: 'grader',
  MQ_PASSWORD: 'pw',
  DB_HOST: '127.0.0.1',
  DB_PORT: '3307',
  DB_USERNAME: 'grader',
  DB_PASSWORD: 'dbpw',
  GRADING_BUCKET: 'local-grading-files',
  AUTH_MODE: 'none',
};

/** Answers GetParameters from a map, as SSM does (unknown names come back as InvalidParameters). */
function fakeSsm(params: Record<string, string>, reads: string[] = []): SSMClient {
  return {
    send: async (command: { input: { Names: string[]; WithDecryption: boolean } }) => {
      assert.equal(command.input.WithDecryption, true);
      reads.push(...command.input.Names);
      return {
        Parameters: command.input.Names.filter((n) => n in params).map((Name) => ({ Name, Value: params[Name] })),
        InvalidParameters: command.input.Names.filter((n) => !(n in params)),
      };
    },
  } as unknown as SSMClient;
}

describe('web gateway config', () => {
  it('reads plain values with the documented defaults', () => {
    const c = parseGatewayConfig(local);
    assert.equal(c.port, 3000);
    assert.equal(c.host, '0.0.0.0');
    assert.deepEqual(c.mq.endpoints, [{ host: '127.0.0.1', port: 61614, ssl: true }]);
    assert.equal(c.db.port, 3307);
    assert.deepEqual(c.destinations, {
      requests: '/queue/grading-requests',
      priority: '/queue/grading-priority',
      progress: '/topic/grading-progress',
    });
    assert.deepEqual(c.userRateLimit, { capacity: 5, refillPerSecond: 10 / 60 });
    assert.equal(c.maxSourceBytes, 65536);
    assert.deepEqual(c.corsOrigins, []);
  });

  it('reads the gateway settings', () => {
    const c = parseGatewayConfig({
      ...local,
      PORT: '8000',
      HOST: '127.0.0.1',
      RATE_LIMIT_BURST: '2',
      RATE_LIMIT_PER_MINUTE: '30',
      DEBOUNCE_MS: '0',
      TRUST_PROXY: 'true',
      CORS_ORIGINS: 'https://a.example, https://b.example',
    });
    assert.equal(c.port, 8000);
    assert.deepEqual(c.userRateLimit, { capacity: 2, refillPerSecond: 0.5 });
    assert.equal(c.debounceWindowMs, 0);
    assert.equal(c.trustProxy, true);
    assert.deepEqual(c.corsOrigins, ['https://a.example', 'https://b.example']);
  });

  it('reads secrets and endpoints from SSM parameters when only their names are given', async () => {
    const reads: string[] = [];
    const c = await gatewayConfigFromEnv(
      {
        MQ_ENDPOINT_PARAM: '/prod/mq/broker-endpoint',
        MQ_USERNAME: 'grader',
        MQ_PASSWORD_PARAM: '/prod/mq/password',
        DB_ENDPOINT_PARAM: '/prod/db/endpoint',
        DB_USERNAME: 'app',
        DB_PASSWORD_PARAM: '/prod/db/password',
        GRADING_BUCKET: 'prod-grading-files',
        ...{
          ENVIRONMENT: 'production',
          AUTH_MODE: 'hmac',
          AUTH_HMAC_SECRET_PARAM: '/prod/web/token-secret',
          AUTH_ISSUER: 'https://site.example',
          AUTH_AUDIENCE: 'grading',
        },
      },
      fakeSsm(
        {
          '/prod/mq/broker-endpoint': 'stomp+ssl://b-1.mq:61614,stomp+ssl://b-2.mq:61614',
          '/prod/mq/password': 's3cret',
          '/prod/db/endpoint': 'db.internal:3306',
          '/prod/db/password': 'dbs3cret',
          '/prod/web/token-secret': 'h'.repeat(48),
        },
        reads,
      ),
    );
    assert.equal(c.auth.hmacSecret, 'h'.repeat(48), 'the token secret comes from its SecureString');
    assert.deepEqual(
      c.mq.endpoints.map((e) => `${e.host}:${e.port}:${e.ssl}`),
      ['b-1.mq:61614:true', 'b-2.mq:61614:true'],
    );
    assert.equal(c.mq.password, 's3cret');
    assert.equal(c.db.host, 'db.internal');
    assert.equal(c.db.port, 3306);
    assert.equal(c.db.ca, undefined, 'no DB_TLS_CA: the Amazon RDS bundle');
    assert.deepEqual(reads.sort(), [
      '/prod/db/endpoint',
      '/prod/db/password',
      '/prod/mq/broker-endpoint',
      '/prod/mq/password',
      '/prod/web/token-secret',
    ]);
  });

  it("starts in the worker image, whose EXECUTOR=judge0 is the worker's business: no Judge0 setting is read", async () => {
    const reads: string[] = [];
    const env = {
      ...local,
      MQ_PASSWORD: '',
      MQ_PASSWORD_PARAM: '/prod/mq/password',
      EXECUTOR: 'judge0',
      JUDGE0_ENDPOINT_PARAM: '/prod/judge0/endpoint',
      JUDGE0_AUTH_TOKEN_PARAM: '/prod/judge0/auth-token',
      HEALTH_PORT: 'x',
    };
    const c = await gatewayConfigFromEnv(env, fakeSsm({ '/prod/mq/password': 's3cret' }, reads));
    assert.equal(c.mq.password, 's3cret');
    assert.deepEqual(reads, ['/prod/mq/password'], 'the gateway role may not read the Judge0 parameters');
    assert.equal(parseGatewayConfig({ ...local, EXECUTOR: 'judge0' }).port, 3000);
  });

  it('reads the review settings, with the API key from its SecureString parameter', async () => {
    const c = await gatewayConfigFromEnv(
      {
        ...local,
        REVIEW_BASE_URL: 'https://llm.example/v1',
        REVIEW_MODEL: 'gpt-x',
        REVIEW_API_KEY_PARAM: '/prod/review/api-key',
        REVIEW_RATE_LIMIT_PER_HOUR: '36',
      },
      fakeSsm({ '/prod/review/api-key': 'sk-from-ssm' }),
    );
    assert.deepEqual(c.review, {
      baseUrl: 'https://llm.example/v1',
      model: 'gpt-x',
      apiKey: 'sk-from-ssm',
      timeoutMs: 60_000,
      userRateLimit: { capacity: 3, refillPerSecond: 0.01 },
      addressRateLimit: { capacity: 5, refillPerSecond: 30 / 3600 },
      dailyModelCalls: 1000,
    });
    assert.equal(parseGatewayConfig({ ...local, REVIEW_DAILY_BUDGET: '50' }).review.dailyModelCalls, 50);
    assert.equal(parseGatewayConfig(local).review.apiKey, undefined, 'review is off unless configured');
    assert.throws(() => parseGatewayConfig({ ...local, REVIEW_BASE_URL: 'llm.example' }), /REVIEW_BASE_URL must be an http\(s\) URL/);
  });

  it('names an SSM parameter that cannot be read', async () => {
    await assert.rejects(
      gatewayConfigFromEnv({ ...local, DB_PASSWORD: '', DB_PASSWORD_PARAM: '/gone' }, fakeSsm({})),
      /Invalid gateway configuration:[\s\S]*\/gone/,
    );
  });

  it('reports every problem at once, naming the variables, without secret values', () => {
    assert.throws(
      () => parseGatewayConfig({ DB_PASSWORD: 'dbpw', PORT: 'eighty', RATE_LIMIT_BURST: '0', TRUST_PROXY: 'maybe' }),
      (error: Error) => {
        for (const name of ['MQ_ENDPOINTS', 'DB_HOST', 'DB_USERNAME', 'GRADING_BUCKET', 'PORT', 'RATE_LIMIT_BURST', 'TRUST_PROXY'])
          assert.match(error.message, new RegExp(name), name);
        assert.doesNotMatch(error.message, /dbpw/);
        return true;
      },
    );
  });
});
