/**
 * The shared IAM and security-group helpers (components/iam.ts, components/securityGroups.ts), and
 * the least-privilege rules every role and rule of the production program keeps through them.
 */
import assert from 'node:assert/strict';
import { assumeRolePolicy, decryptThroughSsmStatement, parameterArn, readParametersStatement } from '../../components/iam';
import { readStackConfig } from '../../scripts/plan';
import { promiseOf, recorded, RecordedResource, settled, useMocks } from './harness';

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown; Principal?: unknown };

const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resourcesOf = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]) as string[];

describe('IAM and security-group helpers', () => {
  it('writes a trust policy for exactly one service', () => {
    assert.deepEqual(JSON.parse(assumeRolePolicy('ec2.amazonaws.com')), {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
  });

  it('reads named parameters only, and decrypts only through SSM in the region', async () => {
    const scope = { region: 'eu-west-1', account: '111122223333' };
    const read = readParametersStatement('ReadOwn', 'ssm:GetParameter', [parameterArn(scope, '/dev/mq/password')]);
    assert.equal(await promiseOf(read.Resource[0] as never), 'arn:aws:ssm:eu-west-1:111122223333:parameter/dev/mq/password');
    const decrypt = decryptThroughSsmStatement('Decrypt', scope.region, 'arn:aws:kms:eu-west-1:111122223333:key/k');
    assert.deepEqual(
      [decrypt.Effect, decrypt.Action, decrypt.Resource],
      ['Allow', 'kms:Decrypt', 'arn:aws:kms:eu-west-1:111122223333:key/k'],
    );
    const condition = await promiseOf(decrypt.Condition.StringEquals['kms:ViaService'] as never);
    assert.equal(condition, 'ssm.eu-west-1.amazonaws.com');
  });
});

describe('least privilege across the production program', () => {
  let resources: RecordedResource[];
  before(async function () {
    this.timeout(60_000);
    await useMocks(readStackConfig('production'), { stack: 'production' });
    const entry = require.resolve('../../index');
    delete require.cache[entry];
    require(entry);
    await settled();
    resources = [...recorded];
  });

  const ofType = (type: string) => resources.filter((r) => r.type === type);
  const inlineStatements = () =>
    ofType('aws:iam/rolePolicy:RolePolicy').flatMap((p) =>
      (JSON.parse(p.inputs.policy).Statement as Statement[]).map((s) => ({ policy: p.name, s })),
    );

  it('trusts exactly one service per role: ECS tasks or EC2', () => {
    const roles = ofType('aws:iam/role:Role');
    assert.deepEqual(roles.map((r) => r.name).sort(), [
      'production-judge0-role',
      'production-web-role',
      'production-workers-execution',
      'production-workers-task',
    ]);
    for (const role of roles) {
      const [statement, ...more] = JSON.parse(role.inputs.assumeRolePolicy).Statement;
      assert.deepEqual(more, [], role.name);
      const expected = role.name.includes('workers') ? 'ecs-tasks.amazonaws.com' : 'ec2.amazonaws.com';
      assert.deepEqual(statement, { Effect: 'Allow', Principal: { Service: expected }, Action: 'sts:AssumeRole' }, role.name);
    }
  });

  it('reads parameters by exact ARN and decrypts the SSM key only through SSM', () => {
    const all = inlineStatements();
    const reads = all.filter(({ s }) => actionsOf(s).some((a) => a.startsWith('ssm:GetParameter')));
    assert.deepEqual(reads.map(({ policy }) => policy).sort(), [
      'production-judge0-read-secrets',
      'production-web-policy',
      'production-workers-execution-secrets',
      'production-workers-task-policy',
    ]);
    for (const { policy, s } of reads) {
      for (const arn of resourcesOf(s))
        assert.match(arn, /^arn:aws:ssm:us-east-1:123456789012:parameter\/production\/[a-z0-9/-]+$/, policy);
    }
    const judge0 = reads.find(({ policy }) => policy === 'production-judge0-read-secrets')!.s;
    assert.deepEqual(
      resourcesOf(judge0)
        .map((arn) => arn.split(':parameter')[1])
        .sort(),
      ['/production/judge0/auth-token', '/production/judge0/postgres-password', '/production/judge0/redis-password'],
    );
    const decrypts = all.filter(({ s }) => actionsOf(s).includes('kms:Decrypt'));
    assert.equal(decrypts.length, reads.length, 'one decrypt statement per role that reads parameters');
    for (const { policy, s } of decrypts) {
      assert.equal(s.Resource, 'arn:aws:kms:us-east-1:123456789012:key/ssm-default', policy);
      assert.deepEqual(s.Condition, { StringEquals: { 'kms:ViaService': 'ssm.us-east-1.amazonaws.com' } }, policy);
    }
  });

  it('opens every port by a described TCP rule, to the internet only the ALB on 80/443', () => {
    const rules = [
      ...ofType('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule'),
      ...ofType('aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule'),
    ];
    assert.ok(rules.length > 20);
    for (const rule of rules) {
      assert.equal(rule.inputs.ipProtocol, 'tcp', rule.name);
      assert.ok(rule.inputs.description, `${rule.name} says why`);
      assert.equal(rule.inputs.tags?.Project, 'grading-stack', rule.name);
    }
    const ingress = ofType('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule');
    const fromAnywhere = ingress.filter((r) => r.inputs.cidrIpv4 === '0.0.0.0/0' || r.inputs.cidrIpv6 === '::/0');
    assert.deepEqual(fromAnywhere.map((r) => r.name).sort(), [
      'production-web-alb-in-443-v4',
      'production-web-alb-in-443-v6',
      'production-web-alb-in-80-v4',
      'production-web-alb-in-80-v6',
    ]);
    const clients = (prefix: string) =>
      ingress.filter((r) => r.name.startsWith(prefix)).map((r) => [r.inputs.fromPort, r.inputs.referencedSecurityGroupId]);
    assert.deepEqual(clients('production-mq-stomp-from-'), [
      [61614, 'sg-production-access-worker'],
      [61614, 'sg-production-access-web'],
    ]);
    assert.deepEqual(clients('production-db-mysql-from-'), [
      [3306, 'sg-production-access-worker'],
      [3306, 'sg-production-access-web'],
    ]);
  });
});
