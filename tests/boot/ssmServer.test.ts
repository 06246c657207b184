/**
 * The boot tests' SSM API server answers the real AWS SDK as SSM does (API Reference: GetParameters,
 * GetParameter, common errors), so a process that reads its settings wrongly fails here as in AWS.
 */
import assert from 'node:assert/strict';
import { GetParameterCommand, GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { SsmServer, startSsmServer } from './ssmServer';

describe('local SSM API server (boot tests)', () => {
  let server: SsmServer;
  let ssm: SSMClient;

  before(async () => {
    server = await startSsmServer({
      region: 'us-east-1',
      account: '123456789012',
      parameters: [
        { name: '/prod/db/password', type: 'SecureString', value: 'pa$$word' },
        { name: '/prod/db/endpoint', type: 'String', value: 'db:3306' },
        { name: '/prod/judge0/auth-token', type: 'SecureString', value: 'tok' },
      ],
      readable: ['/prod/db/password', '/prod/db/endpoint', '/prod/db/missing'],
    });
    const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
    ssm = new SSMClient({ region: 'us-east-1', endpoint: server.url, credentials, maxAttempts: 1 });
  });

  after(async () => {
    ssm.destroy();
    await server.close();
  });

  it('answers GetParameters in alphabetical order, unknown names as InvalidParameters, SecureStrings decrypted on request', async () => {
    const names = ['/prod/db/password', '/prod/db/missing', '/prod/db/endpoint'];
    const page = await ssm.send(new GetParametersCommand({ Names: names, WithDecryption: true }));
    assert.deepEqual(
      page.Parameters!.map((p) => [p.Name, p.Type, p.Value]),
      [
        ['/prod/db/endpoint', 'String', 'db:3306'],
        ['/prod/db/password', 'SecureString', 'pa$$word'],
      ],
    );
    assert.deepEqual(page.InvalidParameters, ['/prod/db/missing']);
    const encrypted = await ssm.send(new GetParametersCommand({ Names: ['/prod/db/password'] }));
    assert.notEqual(encrypted.Parameters![0].Value, 'pa$$word', 'without WithDecryption a SecureString stays encrypted');
  });

  it('answers GetParameter, and ParameterNotFound for an unknown name', async () => {
    const one = await ssm.send(new GetParameterCommand({ Name: '/prod/db/endpoint' }));
    assert.equal(one.Parameter?.Value, 'db:3306');
    await assert.rejects(ssm.send(new GetParameterCommand({ Name: '/prod/db/missing' })), { name: 'ParameterNotFound' });
  });

  it('refuses what the role may not read (the whole call) and more than 10 names', async () => {
    const mixed = new GetParametersCommand({ Names: ['/prod/db/endpoint', '/prod/judge0/auth-token'], WithDecryption: true });
    await assert.rejects(ssm.send(mixed), { name: 'AccessDeniedException' });
    const eleven = Array.from({ length: 11 }, (_, i) => `/prod/db/p${i}`);
    await assert.rejects(ssm.send(new GetParametersCommand({ Names: eleven })), { name: 'ValidationException' });
    assert.ok(!server.reads.some((r) => r.includes('/prod/judge0/')), 'a denied read returns nothing');
  });
});
