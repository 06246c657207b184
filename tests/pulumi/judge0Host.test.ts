import assert from 'node:assert/strict';
import { Judge0Host } from '../../components/judge0Host';
import { DEFAULTS } from '../../components/config';
import { judge0Defaults } from './configDefaults';
import { generatedSecret, ofType, one, promiseOf, settled, useMocks } from './harness';

const base = {
  environmentName: 'staging',
  vpcId: 'vpc-1',
  vpcCidr: '10.0.0.0/16',
  privateSubnetIds: ['subnet-a', 'subnet-b'],
  workerSecurityGroupId: 'sg-worker',
  ...judge0Defaults,
};

describe('Judge0Host', () => {
  beforeEach(() => useMocks());

  it('accepts the API only from the workers through the balancer, and no SSH unless asked', async () => {
    const host = new Judge0Host('j', base);
    await settled();
    const rules = Object.fromEntries(ofType('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule').map((r) => [r.name, r.inputs]));
    assert.deepEqual(Object.keys(rules).sort(), ['j-api-from-lb', 'j-lb-from-workers']);
    const view = (r: Record<string, unknown>) => [r.securityGroupId, r.fromPort, r.toPort, r.referencedSecurityGroupId, r.cidrIpv4];
    assert.deepEqual(view(rules['j-lb-from-workers']), ['sg-j-lb-sg', 2358, 2358, 'sg-worker', undefined]);
    assert.deepEqual(view(rules['j-api-from-lb']), ['sg-j-sg', 2358, 2358, 'sg-j-lb-sg', undefined]);
    assert.equal(await promiseOf(host.endpointSecurityGroupId), 'sg-j-lb-sg');
    assert.equal(one('aws:ec2/instance:Instance').inputs.keyName, undefined);
    assert.equal(ofType('aws:ec2/instance:Instance').length, DEFAULTS.judge0InstanceCount);
    assert.equal(one('aws:ec2/instance:Instance').inputs.instanceType, DEFAULTS.judge0InstanceType);
  });

  it('puts every host behind an internal NLB whose DNS name is the endpoint the workers read', async () => {
    const host = new Judge0Host('j', { ...base, instanceCount: 2 });
    await settled();
    const nlb = one('aws:lb/loadBalancer:LoadBalancer').inputs;
    assert.deepEqual(
      [nlb.loadBalancerType, nlb.internal, nlb.subnets, nlb.securityGroups, nlb.enableCrossZoneLoadBalancing],
      ['network', true, ['subnet-a', 'subnet-b'], ['sg-j-lb-sg'], true],
    );
    const tg = one('aws:lb/targetGroup:TargetGroup').inputs;
    assert.deepEqual(
      [tg.port, tg.protocol, tg.preserveClientIp, tg.stickiness],
      [2358, 'TCP', 'false', { enabled: true, type: 'source_ip' }],
    );
    const attachments = ofType('aws:lb/targetGroupAttachment:TargetGroupAttachment')
      .map((a) => a.inputs.targetId)
      .sort();
    assert.deepEqual(attachments, ['j-1-id', 'j-2-id']);
    const listener = one('aws:lb/listener:Listener').inputs;
    assert.deepEqual(
      [listener.port, listener.protocol, listener.defaultActions[0].type, listener.defaultActions[0].targetGroupArn],
      [2358, 'TCP', 'forward', 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/staging-judge0/456'],
    );
    const endpoint = 'http://staging-judge0-123.us-east-1.elb.amazonaws.com:2358';
    assert.equal(await promiseOf(host.endpoint), endpoint);
    const param = ofType('aws:ssm/parameter:Parameter').find((p) => p.inputs.name === '/staging/judge0/endpoint')!;
    assert.equal(param.inputs.value, endpoint);
  });

  it('pins the AMI: the configured one, or the current Ubuntu image read once and then ignored', async () => {
    new Judge0Host('j', base);
    await settled();
    let instance = one('aws:ec2/instance:Instance');
    assert.equal(instance.inputs.ami, 'ami-0al2023'); // the mock's answer for the SSM parameter
    assert.deepEqual(instance.options?.ignoreChanges, ['ami']);
    await useMocks();
    new Judge0Host('j', { ...base, amiId: 'ami-0123456789abcdef0' });
    await settled();
    instance = one('aws:ec2/instance:Instance');
    assert.equal(instance.inputs.ami, 'ami-0123456789abcdef0');
    assert.deepEqual(instance.options?.ignoreChanges, []);
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
    // Letters and digits only (judge0.conf is shell, database.yml is YAML): no special characters.
    for (const name of ['auth-token', 'postgres-password', 'redis-password']) {
      const generator = one('random:index/randomPassword:RandomPassword', `j-${name}`).inputs;
      assert.deepEqual([generator.special, generator.length >= 32], [false, true]);
    }
  });

  it('lets the instance read only its own secrets', async () => {
    new Judge0Host('j', base);
    await settled();
    const policy = JSON.parse(one('aws:iam/rolePolicy:RolePolicy').inputs.policy);
    assert.deepEqual(
      policy.Statement[0].Resource.sort(),
      ['auth-token', 'postgres-password', 'redis-password'].map((n) => `arn:aws:ssm:us-east-1:123456789012:parameter/staging/judge0/${n}`),
    );
  });
});
