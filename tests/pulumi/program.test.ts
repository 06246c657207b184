/**
 * The whole program (index.ts) under mocks with the production stack's config: the resource graph
 * holds what production needs, and no generated secret appears in plain text anywhere.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { parse } from 'yaml';
import { generatedSecret, ofType, one, promiseOf, recorded, settled, useMocks } from './harness';

function stackConfig(stack: string): Record<string, unknown> {
  const file = parse(fs.readFileSync(path.join(__dirname, `../../Pulumi.${stack}.yaml`), 'utf8')).config as Record<string, unknown>;
  return Object.fromEntries(Object.entries(file).map(([k, v]) => [k.startsWith('grading:') ? k.slice('grading:'.length) : k, v]));
}

async function runProgram(): Promise<Record<string, unknown>> {
  const entry = require.resolve('../../index');
  delete require.cache[entry];
  const exports = require(entry) as Record<string, unknown>;
  await settled();
  return exports;
}

function workerContainer(): { environment: Array<{ name: string; value: string }> } {
  const containers = JSON.parse(one('aws:ecs/taskDefinition:TaskDefinition').inputs.containerDefinitions);
  return containers.find((c: { name: string }) => c.name === 'worker');
}

describe('program (production stack)', () => {
  let outputs: Record<string, unknown>;
  before(async () => {
    await useMocks(stackConfig('production'), { stack: 'production' });
    outputs = await runProgram();
  });

  it('composes the components for the production environment', async () => {
    const components = recorded.filter((r) => r.type.startsWith('grading:index:')).map((r) => r.type);
    for (const c of ['Network', 'Storage', 'Messaging', 'Database', 'EcsGrading', 'Judge0Host', 'WebTier', 'Alarms'])
      assert.ok(components.includes(`grading:index:${c}`), `missing ${c}`);
    assert.match(await promiseOf(outputs.bucketName as pulumi.Output<string>), /^production-grading-files-/);
    const broker = one('aws:mq/broker:Broker').inputs;
    assert.equal(broker.deploymentMode, 'ACTIVE_STANDBY_MULTI_AZ');
    assert.equal(broker.subnetIds.length, 2);
    assert.equal(one('aws:rds/instance:Instance').inputs.deletionProtection, true);
    assert.deepEqual(one('awsx:ec2:Vpc').inputs.natGateways, { strategy: 'OnePerAz' });
  });

  it('keeps generated passwords out of plain text: only SecureString parameters and secret inputs hold them', async () => {
    const secrets = ofType('random:index/randomPassword:RandomPassword').map((r) => generatedSecret(r.name));
    assert.equal(
      secrets.length,
      12,
      'broker admin, worker, gateway and solutions; database master, gateway and worker; Judge0 token, Judge0 database/cache; the gateway HMAC key; the webhook signing key',
    );
    for (const resource of recorded) {
      const text = JSON.stringify(resource.inputs);
      for (const secret of secrets) {
        if (!text.includes(secret)) continue;
        assert.ok(resource.secretPaths.length > 0, `${resource.type} ${resource.name} holds a generated password outside a secret`);
        if (resource.type === 'aws:ssm/parameter:Parameter') assert.equal(resource.inputs.type, 'SecureString', resource.inputs.name);
        else
          assert.ok(
            ['aws:mq/broker:Broker', 'aws:rds/instance:Instance'].includes(resource.type),
            `${resource.type} should not receive a password`,
          );
      }
    }
    for (const [name, value] of Object.entries(outputs)) {
      const resolved = JSON.stringify(await promiseOf(value as pulumi.Output<unknown>));
      for (const secret of secrets) assert.ok(!resolved?.includes(secret), `stack output ${name} exposes a password`);
    }
  });

  it('lets each tier read only its own broker credentials', () => {
    const policies = Object.fromEntries(ofType('aws:iam/rolePolicy:RolePolicy').map((p) => [p.name, p.inputs.policy as string]));
    const readers = (name: string) =>
      Object.keys(policies)
        .filter((p) => policies[p].includes(`parameter${name}"`))
        .sort();
    assert.deepEqual(readers('/production/mq/worker/password'), ['production-workers-task-policy']);
    assert.deepEqual(readers('/production/mq/gateway/password'), ['production-web-policy']);
    assert.deepEqual(readers('/production/mq/password'), [], 'no tier runs as the broker admin');
    const taskEnv = workerContainer().environment;
    assert.deepEqual(
      taskEnv.find((e: { name: string }) => e.name === 'MQ_PASSWORD_PARAM'),
      { name: 'MQ_PASSWORD_PARAM', value: '/production/mq/worker/password' },
    );
    const userData = Buffer.from(one('aws:ec2/launchTemplate:LaunchTemplate').inputs.userData, 'base64').toString();
    assert.match(userData, /-e MQ_USERNAME_PARAM=\/production\/mq\/gateway\/username /);
  });

  it('lets each tier read only its own database user; the master user only the migration, through the execution role', () => {
    const policies = Object.fromEntries(ofType('aws:iam/rolePolicy:RolePolicy').map((p) => [p.name, p.inputs.policy as string]));
    const readers = (name: string) =>
      Object.keys(policies)
        .filter((p) => policies[p].includes(`parameter${name}"`))
        .sort();
    assert.deepEqual(readers('/production/db/password'), ['production-workers-execution-secrets']);
    assert.deepEqual(readers('/production/db/username'), ['production-workers-execution-secrets']);
    assert.deepEqual(readers('/production/db/worker/password'), ['production-workers-execution-secrets', 'production-workers-task-policy']);
    assert.deepEqual(readers('/production/db/gateway/password'), ['production-web-policy', 'production-workers-execution-secrets']);
    const env = Object.fromEntries(workerContainer().environment.map((e: { name: string; value: string }) => [e.name, e.value]));
    assert.equal(env.DB_USERNAME_PARAM, '/production/db/worker/username');
    assert.equal(env.DB_PASSWORD_PARAM, '/production/db/worker/password');
    const userData = Buffer.from(one('aws:ec2/launchTemplate:LaunchTemplate').inputs.userData, 'base64').toString();
    assert.match(userData, /-e DB_USERNAME_PARAM=\/production\/db\/gateway\/username /);
    assert.match(userData, /-e DB_PASSWORD_PARAM=\/production\/db\/gateway\/password /);
    const containers = JSON.parse(one('aws:ecs/taskDefinition:TaskDefinition').inputs.containerDefinitions) as Array<{
      name: string;
      dependsOn?: unknown;
    }>;
    assert.deepEqual(
      containers.map((c) => c.name),
      ['migrate', 'worker'],
    );
    assert.deepEqual(containers[1].dependsOn, [{ containerName: 'migrate', condition: 'SUCCESS' }]);
  });

  it("configures the gateway's authentication from the stack: hmac with a key only the gateway reads", () => {
    const userData = Buffer.from(one('aws:ec2/launchTemplate:LaunchTemplate').inputs.userData, 'base64').toString();
    assert.match(userData, /-e AUTH_MODE=hmac /);
    assert.match(userData, /-e AUTH_ISSUER=https:\/\/www\.example\.com\/ /);
    assert.match(userData, /-e AUTH_AUDIENCE=grading-gateway /);
    assert.match(userData, /-e AUTH_HMAC_SECRET_PARAM=\/production\/web\/auth-hmac-secret /);
    const policies = Object.fromEntries(ofType('aws:iam/rolePolicy:RolePolicy').map((p) => [p.name, p.inputs.policy as string]));
    const readers = Object.keys(policies).filter((p) => policies[p].includes('parameter/production/web/auth-hmac-secret"'));
    assert.deepEqual(readers, ['production-web-policy']);
  });

  it('gives every alarm an action', () => {
    const alarms = ofType('aws:cloudwatch/metricAlarm:MetricAlarm');
    assert.ok(alarms.length >= 14, `only ${alarms.length} alarms`);
    for (const alarm of alarms) assert.ok(alarm.inputs.alarmActions?.length > 0, `${alarm.name} has no action`);
    assert.equal(ofType('aws:sns/topicSubscription:TopicSubscription').length, 2);
  });

  it('exposes nothing to the internet but the ALB on 80/443', () => {
    const albSg = one('aws:ec2/securityGroup:SecurityGroup', 'alb-sg').id;
    for (const rule of ofType('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule')) {
      const open = rule.inputs.cidrIpv4 === '0.0.0.0/0' || rule.inputs.cidrIpv6 === '::/0';
      if (!open) continue;
      assert.equal(rule.inputs.securityGroupId, albSg, `${rule.name} opens a non-ALB group to the internet`);
      assert.ok(
        [80, 443].includes(rule.inputs.fromPort) && rule.inputs.fromPort === rule.inputs.toPort,
        `${rule.name} opens port ${rule.inputs.fromPort}`,
      );
    }
    for (const sg of ofType('aws:ec2/securityGroup:SecurityGroup'))
      assert.equal(sg.inputs.ingress, undefined, `${sg.name} has inline ingress`);
    assert.equal(one('aws:ecs/service:Service').inputs.networkConfiguration.assignPublicIp, false);
    for (const instance of ofType('aws:ec2/instance:Instance')) assert.equal(instance.inputs.associatePublicIpAddress, false);
    assert.equal(one('aws:mq/broker:Broker').inputs.publiclyAccessible, false);
    assert.equal(one('aws:rds/instance:Instance').inputs.publiclyAccessible, false);
    assert.equal(one('aws:lb/loadBalancer:LoadBalancer', 'web-alb').inputs.internal, false);
    assert.equal(one('aws:lb/loadBalancer:LoadBalancer', 'judge0-nlb').inputs.internal, true);
  });

  it('fails before creating anything when the config is invalid', async () => {
    await useMocks({ ecsMinCapacity: 9, ecsMaxCapacity: 2, mqEngineVersion: '5.15' }, { stack: 'broken' });
    await assert.rejects(async () => runProgram(), /ecsMinCapacity \(9\)|mqEngineVersion/);
    assert.equal(recorded.length, 0);
  });
});

describe('program (code review enabled)', () => {
  const apiKey = 'sk-live-review-key-0123456789';
  before(async () => {
    await useMocks(
      { ...stackConfig('production'), enableCodeReview: 'true', reviewModel: 'gpt-4o-mini', reviewApiKey: apiKey },
      { stack: 'production', secretKeys: ['reviewApiKey'] },
    );
    await runProgram();
  });

  it('stores the review key as the SecureString /production/review/api-key and nowhere else in plain text', () => {
    const parameter = ofType('aws:ssm/parameter:Parameter').find((p) => p.inputs.name === '/production/review/api-key');
    assert.ok(parameter, 'the review key parameter');
    assert.equal(parameter.inputs.type, 'SecureString');
    assert.equal(parameter.inputs.value, apiKey);
    assert.ok(parameter.secretPaths.includes('value'));
    for (const resource of recorded) {
      if (resource === parameter) continue;
      assert.ok(!JSON.stringify(resource.inputs).includes(apiKey), `${resource.type} ${resource.name} holds the review key`);
    }
  });

  it('lets the gateway instances read the key, and nothing else', () => {
    const arn = 'parameter/production/review/api-key';
    const policies = ofType('aws:iam/rolePolicy:RolePolicy').map((p) => ({ name: p.name, text: p.inputs.policy as string }));
    const readers = policies.filter((p) => p.text.includes(arn)).map((p) => p.name);
    assert.deepEqual(readers, ['production-web-policy']);
    const userData = Buffer.from(one('aws:ec2/launchTemplate:LaunchTemplate').inputs.userData, 'base64').toString();
    assert.match(userData, /-e REVIEW_API_KEY_PARAM=\/production\/review\/api-key/);
    assert.match(userData, /-e REVIEW_BASE_URL=https:\/\/api\.openai\.com\/v1/);
  });

  it('refuses enableCodeReview without a key, naming the key', async () => {
    await useMocks({ enableCodeReview: 'true' }, { stack: 'staging' });
    await assert.rejects(async () => runProgram(), /reviewApiKey is required when enableCodeReview is true/);
    assert.equal(recorded.length, 0);
  });
});

describe('program (prebuilt graderImage in ECR)', () => {
  const image = '111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/grader:1.4.0';
  before(async () => {
    await useMocks({ ...stackConfig('production'), graderImage: image }, { stack: 'production' });
    await runProgram();
  });

  it('builds nothing and lets the gateway instances pull that repository', () => {
    assert.equal(ofType('aws:ecr/repository:Repository').length, 0);
    const policy = JSON.parse(one('aws:iam/rolePolicy:RolePolicy', 'web-policy').inputs.policy);
    const pull = policy.Statement.find((s: { Sid: string }) => s.Sid === 'PullGatewayImage');
    assert.deepEqual(pull?.Resource, 'arn:aws:ecr:eu-west-1:111122223333:repository/team/grader');
    const userData = Buffer.from(one('aws:ec2/launchTemplate:LaunchTemplate').inputs.userData, 'base64').toString();
    assert.match(userData, /docker login --username AWS --password-stdin 111122223333\.dkr\.ecr\.eu-west-1\.amazonaws\.com/);
  });
});
