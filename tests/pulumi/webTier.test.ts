import assert from 'node:assert/strict';
import { WebTier } from '../../components/webTier';
import { ofType, one, settled, useMocks } from './harness';

const base = {
  environmentName: 'staging',
  vpcId: 'vpc-1',
  publicSubnetIds: ['subnet-pub-a', 'subnet-pub-b'],
  privateSubnetIds: ['subnet-a', 'subnet-b'],
  webSecurityGroupId: 'sg-web',
  brokerSecurityGroupId: 'sg-broker',
  databaseSecurityGroupId: 'sg-db',
  bucketName: 'staging-grading-files',
  bucketArn: 'arn:aws:s3:::staging-grading-files',
  parameters: {
    mq: { endpoint: '/staging/mq/broker-endpoint', username: '/staging/mq/username', password: '/staging/mq/password' },
    db: { endpoint: '/staging/db/endpoint', username: '/staging/db/username', password: '/staging/db/password' },
  },
  image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/staging-grading-worker:abc',
  repositoryArn: 'arn:aws:ecr:us-east-1:123456789012:repository/staging-grading-worker',
};

describe('WebTier', () => {
  beforeEach(() => useMocks());

  it('chains security groups: internet -> ALB on 80 -> instances on 3000', async () => {
    new WebTier('web', base);
    await settled();
    const albSg = one('aws:ec2/securityGroup:SecurityGroup', 'alb-sg').id;
    const ingress = ofType('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule').map((r) => r.inputs);
    const toAlb = ingress.filter((r) => r.securityGroupId === albSg);
    assert.deepEqual(toAlb.map((r) => [r.fromPort, r.cidrIpv4 ?? r.cidrIpv6]).sort(), [[80, '0.0.0.0/0'], [80, '::/0']]);
    const toInstances = ingress.filter((r) => r.securityGroupId === 'sg-web');
    assert.deepEqual(toInstances.map((r) => [r.fromPort, r.referencedSecurityGroupId]), [[3000, albSg]]);
    assert.equal(one('aws:lb/listener:Listener').inputs.defaultActions[0].type, 'forward');
  });

  it('serves HTTPS with the certificate and redirects HTTP when a certificate is configured', async () => {
    new WebTier('web', { ...base, certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc' });
    await settled();
    const listeners = Object.fromEntries(ofType('aws:lb/listener:Listener').map((l) => [l.inputs.port, l.inputs]));
    assert.deepEqual(listeners[80].defaultActions[0], { type: 'redirect', redirect: { protocol: 'HTTPS', port: '443', statusCode: 'HTTP_301' } });
    assert.equal(listeners[443].certificateArn, 'arn:aws:acm:us-east-1:123456789012:certificate/abc');
    assert.match(listeners[443].sslPolicy, /TLS13/);
    const ports = ofType('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule').filter((r) => r.inputs.cidrIpv4 === '0.0.0.0/0').map((r) => r.inputs.fromPort);
    assert.deepEqual(ports.sort(), [443, 80]);
  });

  it('health-checks /health and runs instances in private subnets with IMDSv2 and encrypted disks', async () => {
    new WebTier('web', base);
    await settled();
    assert.equal(one('aws:lb/targetGroup:TargetGroup').inputs.healthCheck.path, '/health');
    const asg = one('aws:autoscaling/group:Group').inputs;
    assert.deepEqual(asg.vpcZoneIdentifiers, ['subnet-a', 'subnet-b']);
    assert.equal(asg.healthCheckType, 'ELB');
    const lt = one('aws:ec2/launchTemplate:LaunchTemplate').inputs;
    assert.equal(lt.metadataOptions.httpTokens, 'required');
    assert.equal(lt.blockDeviceMappings[0].ebs.encrypted, 'true');
    const userData = Buffer.from(lt.userData, 'base64').toString();
    assert.match(userData, /node dist\/web\/src\/main\.js/);
    assert.match(userData, /-e DB_PASSWORD_PARAM=\/staging\/db\/password/);
    assert.doesNotMatch(userData, /DB_PASSWORD=|MQ_PASSWORD=/);
  });

  it('lets instances store and read back submissions and read results and problems, nothing more in the bucket', async () => {
    new WebTier('web', base);
    await settled();
    const policy = JSON.parse(one('aws:iam/rolePolicy:RolePolicy').inputs.policy);
    const bySid = Object.fromEntries(policy.Statement.map((s: { Sid: string }) => [s.Sid, s]));
    assert.deepEqual(bySid.StoreSubmissions, { Sid: 'StoreSubmissions', Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject'], Resource: 'arn:aws:s3:::staging-grading-files/submissions/*' });
    assert.ok(!JSON.stringify(policy).includes('/review/'), 'no review key to read when review is off');
    assert.equal(ofType('aws:ssm/parameter:Parameter').length, 0);
    assert.deepEqual(bySid.ReadResultsAndProblems.Resource, ['arn:aws:s3:::staging-grading-files/results/*', 'arn:aws:s3:::staging-grading-files/problems/*']);
    assert.equal(bySid.PullGatewayImage.Resource, base.repositoryArn);
    const wildcard = policy.Statement.filter((s: { Resource: unknown }) => s.Resource === '*');
    assert.deepEqual(wildcard.map((s: { Action: string }) => s.Action), ['ecr:GetAuthorizationToken'], 'only the ECR login, which has no resource-level permission');
  });
});
