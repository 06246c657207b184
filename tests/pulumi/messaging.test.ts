import assert from 'node:assert/strict';
import * as pulumi from '@pulumi/pulumi';
import { BROKER_GROUPS, BROKER_USERS, renderBrokerConfigXml } from '../../components/brokerXml';
import { DEFAULTS } from '../../components/config';
import { Messaging } from '../../components/messaging';
import { messagingDefaults } from './configDefaults';
import { generatedSecret, ofType, one, promiseOf, settled, useMocks } from './harness';

const base = {
  environmentName: 'staging',
  vpcId: 'vpc-1',
  vpcCidr: '10.0.0.0/16',
  privateSubnetIds: ['subnet-a', 'subnet-b', 'subnet-c'],
  clientSecurityGroupIds: ['sg-worker', 'sg-web'],
  ...messagingDefaults,
};

describe('Messaging', () => {
  beforeEach(() => useMocks());

  it('creates a private ActiveMQ 5.18 broker with general and audit logs and the generated configuration', async () => {
    const m = new Messaging('mq', base);
    await settled();
    const broker = one('aws:mq/broker:Broker').inputs;
    assert.equal(broker.publiclyAccessible, false);
    assert.equal(broker.engineType, 'ActiveMQ');
    assert.equal(broker.engineVersion, DEFAULTS.mqEngineVersion);
    assert.equal(broker.autoMinorVersionUpgrade, DEFAULTS.mqAutoMinorVersionUpgrade);
    assert.equal(broker.hostInstanceType, DEFAULTS.mqInstanceType);
    assert.equal(broker.deploymentMode, DEFAULTS.mqDeploymentMode);
    assert.deepEqual(broker.logs, { general: true, audit: DEFAULTS.mqEnableAuditLogs });
    assert.deepEqual(broker.securityGroups, ['sg-mq-broker-sg']);
    const configuration = one('aws:mq/configuration:Configuration').inputs;
    assert.equal(configuration.data, renderBrokerConfigXml({ maximumRedeliveries: DEFAULTS.mqMaximumRedeliveries }));
    assert.deepEqual(broker.configuration, { id: 'mq-configuration-id', revision: 1 });
    assert.equal(m.brokerName, 'staging-grading');
  });

  it('puts a single instance in one private subnet and active/standby in two', async () => {
    new Messaging('mq', base);
    await settled();
    assert.deepEqual(one('aws:mq/broker:Broker').inputs.subnetIds, ['subnet-a']);
    await useMocks();
    const m = new Messaging('mq', { ...base, deploymentMode: 'ACTIVE_STANDBY_MULTI_AZ', instanceType: 'mq.m5.large' });
    await settled();
    assert.deepEqual(one('aws:mq/broker:Broker').inputs.subnetIds, ['subnet-a', 'subnet-b']);
    assert.equal((await promiseOf(m.stompEndpoints)).split(',').length, 2);
  });

  it('accepts STOMP+SSL (61614) only from the client security groups, never from a CIDR', async () => {
    new Messaging('mq', base);
    await settled();
    const rules = ofType('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule').map((r) => r.inputs);
    assert.deepEqual(rules.map((r) => r.referencedSecurityGroupId).sort(), ['sg-web', 'sg-worker']);
    for (const r of rules) {
      assert.equal(r.fromPort, 61614);
      assert.equal(r.toPort, 61614);
      assert.equal(r.ipProtocol, 'tcp');
      assert.equal(r.cidrIpv4, undefined);
      assert.equal(r.cidrIpv6, undefined);
    }
    assert.equal(one('aws:ec2/securityGroup:SecurityGroup').inputs.ingress, undefined);
  });

  it('stores the endpoint and credentials in SSM, credentials as SecureString', async () => {
    const m = new Messaging('mq', base);
    await settled();
    const params = Object.fromEntries(ofType('aws:ssm/parameter:Parameter').map((p) => [p.inputs.name, p.inputs]));
    assert.deepEqual(Object.keys(params).sort(), [
      '/staging/mq/broker-endpoint',
      '/staging/mq/gateway/password',
      '/staging/mq/gateway/username',
      '/staging/mq/password',
      '/staging/mq/solutions/password',
      '/staging/mq/solutions/username',
      '/staging/mq/username',
      '/staging/mq/worker/password',
      '/staging/mq/worker/username',
    ]);
    for (const name of Object.keys(params).filter((n) => !n.endsWith('broker-endpoint')))
      assert.equal(params[name].type, 'SecureString', name);
    assert.equal(params['/staging/mq/password'].type, 'SecureString');
    assert.equal(params['/staging/mq/username'].type, 'SecureString');
    assert.equal(params['/staging/mq/broker-endpoint'].value, 'stomp+ssl://b-1234-1.mq.us-east-1.amazonaws.com:61614');
    assert.equal(params['/staging/mq/password'].value, generatedSecret('mq-admin-password'));
    assert.ok(await pulumi.isSecret(m.adminPassword));
  });

  it('uses the configured password as a secret instead of generating one', async () => {
    const m = new Messaging('mq', { ...base, adminPassword: 'configured-Passw0rd!' });
    await settled();
    // Only the tier users' passwords are generated.
    assert.deepEqual(
      ofType('random:index/randomPassword:RandomPassword')
        .map((r) => r.name)
        .sort(),
      ['mq-gateway-password', 'mq-solutions-password', 'mq-worker-password'],
    );
    assert.equal(one('aws:mq/broker:Broker').inputs.users[0].password, 'configured-Passw0rd!');
    assert.ok(await pulumi.isSecret(m.adminPassword));
  });

  it('lets mq.amazonaws.com write its logs to /aws/amazonmq/* through a resource policy made before the broker', async () => {
    new Messaging('mq', base);
    await settled();
    const policy = one('aws:cloudwatch/logResourcePolicy:LogResourcePolicy');
    assert.equal(policy.inputs.policyName, 'staging-grading-amazonmq-logs');
    assert.deepEqual(JSON.parse(policy.inputs.policyDocument).Statement, [
      {
        Sid: 'AmazonMqLogs',
        Effect: 'Allow',
        Principal: { Service: 'mq.amazonaws.com' },
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/amazonmq/*',
        Condition: {
          StringEquals: { 'aws:SourceAccount': '123456789012' },
          ArnLike: { 'aws:SourceArn': 'arn:aws:mq:us-east-1:123456789012:broker:*' },
        },
      },
    ]);
    assert.deepEqual(one('aws:mq/broker:Broker').options?.dependsOn, ['aws:cloudwatch/logResourcePolicy:LogResourcePolicy::mq-log-policy']);
  });

  it('gives each tier its own broker user and password parameters, none with console access', async () => {
    const m = new Messaging('mq', base);
    await settled();
    const users = one('aws:mq/broker:Broker').inputs.users as Array<{
      username: string;
      password: string;
      consoleAccess: boolean;
      groups: string[];
    }>;
    assert.deepEqual(
      users.map((u) => [u.username, u.groups, u.consoleAccess]),
      [
        [DEFAULTS.mqAdminUsername, ['admins'], false],
        ['grading-worker', ['grading-workers'], false],
        ['grading-gateway', ['grading-gateways'], false],
        ['grading-solutions', ['grading-solutions'], false],
      ],
    );
    assert.equal(new Set(users.map((u) => u.password)).size, 4, 'four different passwords');
    assert.deepEqual(m.tierParameterNames, {
      worker: { endpoint: '/staging/mq/broker-endpoint', username: '/staging/mq/worker/username', password: '/staging/mq/worker/password' },
      gateway: {
        endpoint: '/staging/mq/broker-endpoint',
        username: '/staging/mq/gateway/username',
        password: '/staging/mq/gateway/password',
      },
      solutions: {
        endpoint: '/staging/mq/broker-endpoint',
        username: '/staging/mq/solutions/username',
        password: '/staging/mq/solutions/password',
      },
    });
    const params = Object.fromEntries(ofType('aws:ssm/parameter:Parameter').map((p) => [p.inputs.name, p]));
    assert.equal(params['/staging/mq/worker/password'].inputs.value, generatedSecret('mq-worker-password'));
    assert.ok(params['/staging/mq/worker/password'].secretPaths.includes('value'));
    assert.equal(params['/staging/mq/gateway/username'].inputs.value, 'grading-gateway');
  });

  it("puts its users in exactly the groups the broker configuration's authorization entries name", async () => {
    new Messaging('mq', base);
    await settled();
    const xml = one('aws:mq/configuration:Configuration').inputs.data as string;
    const named = new Set<string>();
    for (const entry of xml.match(/<authorizationEntry [^>]*\/>/g) ?? []) {
      for (const [, groups] of entry.matchAll(/ (?:read|write|admin)="([^"]*)"/g)) for (const g of groups.split(',')) named.add(g.trim());
    }
    assert.ok(named.size > 0, 'the configuration has authorization entries');
    const users = one('aws:mq/broker:Broker').inputs.users as Array<{ username: string; groups: string[] }>;
    const groups = new Set(users.flatMap((u) => u.groups));
    // Amazon MQ's console group is granted in the XML but held by no API user (consoleAccess is false).
    assert.deepEqual([...groups].sort(), [...named].filter((g) => g !== BROKER_GROUPS.console).sort());
    const byUser = Object.fromEntries(users.map((u) => [u.username, u.groups]));
    assert.deepEqual(byUser[BROKER_USERS.gateway], [BROKER_GROUPS.gateways]);
    assert.deepEqual(byUser[BROKER_USERS.worker], [BROKER_GROUPS.workers]);
    assert.deepEqual(byUser[DEFAULTS.mqAdminUsername], [BROKER_GROUPS.admins]);
  });
});
