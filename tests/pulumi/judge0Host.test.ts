import assert from 'node:assert/strict';
import { Judge0Host } from '../../components/judge0Host';
import { generatedSecret, ofType, one, promiseOf, settled, useMocks } from './harness';

const base = { environmentName: 'staging', vpcId: 'vpc-1', vpcCidr: '10.0.0.0/16', privateSubnetIds: ['subnet-a', 'subnet-b'], workerSecurityGroupId: 'sg-worker' };

describe('Judge0Host', () => {
  beforeEach(() => useMocks());

  it('accepts the API only from the workers, and no SSH unless asked', async () => {
    new Judge0Host('j', base);
    await settled();
    const rules = ofType('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule').map((r) => r.inputs);
    assert.equal(rules.length, 1);
    assert.deepEqual([rules[0].fromPort, rules[0].toPort, rules[0].referencedSecurityGroupId, rules[0].cidrIpv4], [2358, 2358, 'sg-worker', undefined]);
    assert.equal(one('aws:ec2/instance:Instance').inputs.keyName, undefined);
  });

  it('allows SSH from inside the VPC only when enableSshAccess is set', async () => {
    new Judge0Host('j', { ...base, enableSshAccess: true, sshKeyName: 'ops' });
    await settled();
    const ssh = ofType('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule').find((r) => r.inputs.fromPort === 22)!.inputs;
    assert.equal(ssh.cidrIpv4, '10.0.0.0/16');
    assert.equal(one('aws:ec2/instance:Instance').inputs.keyName, 'ops');
  });

  it('requires IMDSv2, encrypts the root volume and has no public IP', async () => {
    new Judge0Host('j', base);
    await settled();
    const instance = one('aws:ec2/instance:Instance').inputs;
    assert.equal(instance.metadataOptions.httpTokens, 'required');
    assert.equal(instance.rootBlockDevice.encrypted, true);
    assert.equal(instance.associatePublicIpAddress, false);
    assert.equal(instance.subnetId, 'subnet-a');
  });

  it('generates the token and passwords into SecureString parameters only, never into user data', async () => {
    const host = new Judge0Host('j', base);
    await settled();
    const params = Object.fromEntries(ofType('aws:ssm/parameter:Parameter').map((p) => [p.inputs.name, p.inputs]));
    for (const name of ['auth-token', 'postgres-password', 'redis-password']) {
      assert.equal(params[`/staging/judge0/${name}`].type, 'SecureString');
      assert.equal(params[`/staging/judge0/${name}`].value, generatedSecret(`j-${name}`));
    }
    const userData = Buffer.from(one('aws:ec2/instance:Instance').inputs.userData).toString();
    for (const name of ['auth-token', 'postgres-password', 'redis-password']) assert.ok(!userData.includes(generatedSecret(`j-${name}`)));
    assert.match(userData, /^#cloud-config/);
    assert.match(userData, /judge0-bootstrap\.service/);
    assert.equal(params['/staging/judge0/endpoint'].type, 'String');
    assert.match(await promiseOf(host.endpoint), /^http:\/\/.*:2358$/);
  });

  it('lets the instance read only its own secrets', async () => {
    new Judge0Host('j', base);
    await settled();
    const policy = JSON.parse(one('aws:iam/rolePolicy:RolePolicy').inputs.policy);
    assert.deepEqual(policy.Statement[0].Resource.sort(), ['auth-token', 'postgres-password', 'redis-password'].map((n) => `arn:aws:ssm:us-east-1:123456789012:parameter/staging/judge0/${n}`));
  });
});
