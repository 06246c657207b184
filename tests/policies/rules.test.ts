/**
 * Each CrossGuard rule, called the way the policy engine calls it (no Pulumi CLI): one compliant
 * and one violating case per rule, asserting the exact message.
 */
import assert from 'node:assert/strict';
import type { ResourceValidationPolicy, StackValidationPolicy } from '@pulumi/policy';
import { renderBrokerConfigXml } from '../../components/brokerXml';
import * as rules from '../../policies/rules';

type Props = Record<string, unknown>;
const urn = (type: string, name: string) => `urn:pulumi:test::grading-stack::${type}::${name}`;

function resourceViolations(
  policy: ResourceValidationPolicy,
  type: string,
  props: Props,
  environmentName = 'staging',
  name = 'r',
): string[] {
  const messages: string[] = [];
  const validate = policy.validateResource as (args: unknown, report: (m: string) => void) => void;
  validate(
    {
      type,
      props,
      urn: urn(type, name),
      name,
      opts: {},
      stackTags: new Map(),
      isType: () => false,
      asType: () => undefined,
      getConfig: () => ({ environmentName }),
    },
    (m) => messages.push(m),
  );
  return messages;
}

function stackViolations(
  policy: StackValidationPolicy,
  resources: Array<{ type: string; name: string; props: Props }>,
  environmentName = 'staging',
): string[] {
  const messages: string[] = [];
  policy.validateStack(
    {
      resources: resources.map((r) => ({
        ...r,
        urn: urn(r.type, r.name),
        opts: {},
        dependencies: [],
        propertyDependencies: {},
        isType: () => false,
        asType: () => undefined,
      })),
      getConfig: () => ({ environmentName }),
    } as never,
    (m: string) => messages.push(m),
  );
  return messages;
}

const BUCKET = { type: 'aws:s3/bucket:Bucket', name: 'files', props: { bucket: 'prod-grading-files' } };
const withBucket = (type: string, props: Props) => [BUCKET, { type, name: 'x', props: { bucket: 'prod-grading-files', ...props } }];
const TLS_POLICY = JSON.stringify({
  Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }],
});

describe('CrossGuard policies', () => {
  describe('S3', () => {
    it('requires default encryption', () => {
      assert.deepEqual(
        stackViolations(
          rules.s3Encryption,
          withBucket('aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration', {
            rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }],
          }),
        ),
        [],
      );
      assert.deepEqual(stackViolations(rules.s3Encryption, [BUCKET]), [
        'S3 bucket files has no default server-side encryption configuration.',
      ]);
    });
    it('requires versioning in production only', () => {
      const suspended = withBucket('aws:s3/bucketVersioning:BucketVersioning', { versioningConfiguration: { status: 'Suspended' } });
      assert.deepEqual(stackViolations(rules.s3VersioningInProduction, suspended, 'staging'), []);
      assert.deepEqual(stackViolations(rules.s3VersioningInProduction, suspended, 'production'), [
        'S3 bucket files must have versioning enabled in production.',
      ]);
      assert.deepEqual(
        stackViolations(
          rules.s3VersioningInProduction,
          withBucket('aws:s3/bucketVersioning:BucketVersioning', { versioningConfiguration: { status: 'Enabled' } }),
          'production',
        ),
        [],
      );
    });
    it('requires all public access blocked', () => {
      const all = { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true };
      assert.deepEqual(
        stackViolations(rules.s3PublicAccessBlocked, withBucket('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock', all)),
        [],
      );
      assert.deepEqual(
        stackViolations(
          rules.s3PublicAccessBlocked,
          withBucket('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock', { ...all, restrictPublicBuckets: false }),
        ),
        ['S3 bucket files must block all public access (all four settings true).'],
      );
    });
    it('requires a TLS-only bucket policy', () => {
      assert.deepEqual(stackViolations(rules.s3TlsOnly, withBucket('aws:s3/bucketPolicy:BucketPolicy', { policy: TLS_POLICY })), []);
      assert.deepEqual(
        stackViolations(rules.s3TlsOnly, withBucket('aws:s3/bucketPolicy:BucketPolicy', { policy: JSON.stringify({ Statement: [] }) })),
        ['S3 bucket files needs a bucket policy that denies aws:SecureTransport=false.'],
      );
    });
  });

  describe('Amazon MQ', () => {
    const broker = 'aws:mq/broker:Broker';
    it('keeps brokers private', () => {
      assert.deepEqual(resourceViolations(rules.mqNotPublic, broker, { publiclyAccessible: false }), []);
      assert.deepEqual(resourceViolations(rules.mqNotPublic, broker, { publiclyAccessible: true }), [
        'Amazon MQ broker r must not be publicly accessible.',
      ]);
    });
    it('requires general and audit logs', () => {
      assert.deepEqual(resourceViolations(rules.mqLogs, broker, { logs: { general: true, audit: true } }), []);
      assert.deepEqual(resourceViolations(rules.mqLogs, broker, { logs: { general: true, audit: false } }), [
        'Amazon MQ broker r must enable both general and audit logs.',
      ]);
    });
    it('requires multi-AZ in production, and only advises elsewhere', () => {
      assert.deepEqual(
        resourceViolations(rules.mqMultiAzInProduction, broker, { deploymentMode: 'ACTIVE_STANDBY_MULTI_AZ' }, 'production'),
        [],
      );
      assert.deepEqual(resourceViolations(rules.mqMultiAzInProduction, broker, { deploymentMode: 'SINGLE_INSTANCE' }, 'production'), [
        'Amazon MQ broker r must use ACTIVE_STANDBY_MULTI_AZ in production.',
      ]);
      assert.deepEqual(resourceViolations(rules.mqMultiAzInProduction, broker, { deploymentMode: 'SINGLE_INSTANCE' }, 'staging'), []);
      assert.equal(rules.mqMultiAzAdvisory.enforcementLevel, 'advisory');
      assert.deepEqual(resourceViolations(rules.mqMultiAzAdvisory, broker, { deploymentMode: 'SINGLE_INSTANCE' }, 'staging'), [
        'Amazon MQ broker r is a single instance: a broker restart stops grading.',
      ]);
    });
  });

  describe('RDS', () => {
    const rds = 'aws:rds/instance:Instance';
    const good = { storageEncrypted: true, publiclyAccessible: false, backupRetentionPeriod: 7, deletionProtection: true };
    it('requires encryption', () => {
      assert.deepEqual(resourceViolations(rules.rdsEncrypted, rds, good), []);
      assert.deepEqual(resourceViolations(rules.rdsEncrypted, rds, { ...good, storageEncrypted: false }), [
        'RDS instance r must have storageEncrypted = true.',
      ]);
    });
    it('keeps databases private', () => {
      assert.deepEqual(resourceViolations(rules.rdsNotPublic, rds, good), []);
      assert.deepEqual(resourceViolations(rules.rdsNotPublic, rds, { ...good, publiclyAccessible: true }), [
        'RDS instance r must not be publicly accessible.',
      ]);
    });
    it('keeps backups for 7 days or more', () => {
      assert.deepEqual(resourceViolations(rules.rdsBackups, rds, good), []);
      assert.deepEqual(resourceViolations(rules.rdsBackups, rds, { ...good, backupRetentionPeriod: 3 }), [
        'RDS instance r must keep backups for at least 7 days (backupRetentionPeriod is 3).',
      ]);
    });
    it('requires deletion protection in production', () => {
      assert.deepEqual(
        resourceViolations(rules.rdsDeletionProtectionInProduction, rds, { ...good, deletionProtection: false }, 'staging'),
        [],
      );
      assert.deepEqual(
        resourceViolations(rules.rdsDeletionProtectionInProduction, rds, { ...good, deletionProtection: false }, 'production'),
        ['RDS instance r must have deletion protection in production.'],
      );
    });
  });

  describe('network', () => {
    const sg = (name: string) => ({ type: 'aws:ec2/securityGroup:SecurityGroup', name, props: { id: `sg-${name}` } });
    const alb = { type: 'aws:lb/loadBalancer:LoadBalancer', name: 'alb', props: { securityGroups: ['sg-alb'] } };
    const ingress = (name: string, group: string, port: number, cidr = '0.0.0.0/0') => ({
      type: 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule',
      name,
      props: { securityGroupId: group, fromPort: port, toPort: port, cidrIpv4: cidr },
    });
    it('allows 80/443 from anywhere on the ALB only', () => {
      assert.deepEqual(
        stackViolations(rules.noPublicIngress, [
          sg('alb'),
          alb,
          ingress('https', 'sg-alb', 443),
          ingress('inner', 'sg-app', 3000, '10.0.0.0/16'),
        ]),
        [],
      );
      assert.deepEqual(stackViolations(rules.noPublicIngress, [sg('alb'), sg('app'), alb, ingress('app-open', 'sg-app', 443)]), [
        'Security group ingress app-open is open to the internet on ports 443-443; only 80/443 on a load balancer may be.',
      ]);
      assert.deepEqual(stackViolations(rules.noPublicIngress, [sg('alb'), alb, ingress('alb-8080', 'sg-alb', 8080)]), [
        'Security group ingress alb-8080 is open to the internet on ports 8080-8080; only 80/443 on a load balancer may be.',
      ]);
    });
    it('checks inline rules and IPv6 too', () => {
      const inline = {
        type: 'aws:ec2/securityGroup:SecurityGroup',
        name: 'legacy',
        props: { id: 'sg-legacy', ingress: [{ fromPort: 5432, toPort: 5432, ipv6CidrBlocks: ['::/0'] }] },
      };
      assert.deepEqual(stackViolations(rules.noPublicIngress, [inline]), [
        'Security group ingress legacy is open to the internet on ports 5432-5432; only 80/443 on a load balancer may be.',
      ]);
    });
    it('counts any prefix shorter than /8 as the whole internet (split ranges too)', () => {
      for (const cidr of ['0.0.0.0/1', '128.0.0.0/1', '64.0.0.0/2', ' 0.0.0.0/7 '])
        assert.equal(stackViolations(rules.noPublicIngress, [ingress('split', 'sg-app', 5432, cidr)]).length, 1, cidr);
      const v6 = {
        type: 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule',
        name: 'v6',
        props: { securityGroupId: 'sg-app', fromPort: 22, toPort: 22, cidrIpv6: '::/1' },
      };
      assert.equal(stackViolations(rules.noPublicSsh, [v6]).length, 1);
      assert.deepEqual(stackViolations(rules.noPublicIngress, [ingress('corp', 'sg-app', 5432, '10.0.0.0/8')]), []);
      assert.equal(rules.openToWorld(undefined), false);
      // All traffic (-1) opens every port whatever fromPort/toPort say; ports given as text are numbers.
      const all = {
        type: 'aws:ec2/securityGroupRule:SecurityGroupRule',
        name: 'all',
        props: { type: 'ingress', protocol: '-1', fromPort: 0, toPort: 0, cidrBlocks: ['0.0.0.0/0'] },
      };
      assert.equal(stackViolations(rules.noPublicSsh, [all]).length, 1);
      const textPorts = {
        type: 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule',
        name: 'https',
        props: { securityGroupId: 'sg-alb', fromPort: '443', toPort: '443', cidrIpv4: '0.0.0.0/0' },
      };
      assert.deepEqual(stackViolations(rules.noPublicIngress, [sg('alb'), alb, textPorts]), []);
    });
    it('never opens SSH to the internet', () => {
      assert.deepEqual(stackViolations(rules.noPublicSsh, [ingress('ssh-vpc', 'sg-j', 22, '10.0.0.0/16')]), []);
      assert.deepEqual(stackViolations(rules.noPublicSsh, [ingress('ssh', 'sg-j', 22)]), [
        'Security group ingress ssh opens SSH (22) to the internet.',
      ]);
    });
  });

  describe('ECS and IAM', () => {
    const taskDef = (container: Props) => ({
      containerDefinitions: JSON.stringify([{ name: 'worker', logConfiguration: { logDriver: 'awslogs' }, ...container }]),
    });
    it('gives tasks no public IP', () => {
      assert.deepEqual(
        resourceViolations(rules.ecsNoPublicIp, 'aws:ecs/service:Service', { networkConfiguration: { assignPublicIp: false } }),
        [],
      );
      assert.deepEqual(
        resourceViolations(rules.ecsNoPublicIp, 'aws:ecs/service:Service', { networkConfiguration: { assignPublicIp: true } }),
        ['ECS service r must not assign public IPs to its tasks.'],
      );
    });
    it('runs no privileged container', () => {
      assert.deepEqual(resourceViolations(rules.ecsNoPrivileged, 'aws:ecs/taskDefinition:TaskDefinition', taskDef({})), []);
      assert.deepEqual(resourceViolations(rules.ecsNoPrivileged, 'aws:ecs/taskDefinition:TaskDefinition', taskDef({ privileged: true })), [
        'ECS task definition r: container worker must not be privileged.',
      ]);
    });
    it('configures logs for every container', () => {
      assert.deepEqual(resourceViolations(rules.ecsLogsConfigured, 'aws:ecs/taskDefinition:TaskDefinition', taskDef({})), []);
      assert.deepEqual(
        resourceViolations(rules.ecsLogsConfigured, 'aws:ecs/taskDefinition:TaskDefinition', taskDef({ logConfiguration: undefined })),
        ['ECS task definition r: container worker has no logConfiguration.'],
      );
    });
    it('finds no secret in a task environment, only parameter names', () => {
      const td = 'aws:ecs/taskDefinition:TaskDefinition';
      const env = (environment: unknown) => ({
        containerDefinitions: JSON.stringify([{ name: 'worker', logConfiguration: {}, environment }]),
      });
      assert.deepEqual(
        resourceViolations(
          rules.ecsNoSecretsInEnvironment,
          td,
          env([
            { name: 'DB_PASSWORD_PARAM', value: '/prod/db/password' },
            { name: 'JUDGE0_AUTH_TOKEN_PARAM', value: '/prod/judge0/auth-token' },
            { name: 'MAX_TOKENS', value: '500' },
          ]),
        ),
        [],
      );
      assert.deepEqual(
        resourceViolations(
          rules.ecsNoSecretsInEnvironment,
          td,
          env([
            { name: 'DB_PASSWORD', value: 'hunter2' },
            { name: 'API_KEY', value: 'k' },
            { name: 'JWT_SECRET', value: 's' },
            { name: 'AUTH_TOKEN', value: 't' },
          ]),
        ),
        [
          'ECS task definition r: container worker has secrets in its environment (DB_PASSWORD, API_KEY, JWT_SECRET, AUTH_TOKEN): use secrets or a parameter name.',
        ],
      );
      // A password inside a connection string, whatever the variable is called.
      assert.equal(
        resourceViolations(
          rules.ecsNoSecretsInEnvironment,
          td,
          env([{ name: 'DATABASE_URL', value: 'mysql://app:hunter2@db:3306/grading' }]),
        ).length,
        1,
      );
      assert.deepEqual(
        resourceViolations(rules.ecsNoSecretsInEnvironment, td, env([{ name: 'DATABASE_URL', value: 'mysql://db:3306/grading' }])),
        [],
      );
      // containerDefinitions as an array too, and unknown ones tolerated.
      assert.equal(
        resourceViolations(rules.ecsNoSecretsInEnvironment, td, {
          containerDefinitions: [{ name: 'w', environment: [{ name: 'SecretKey', value: 'x' }] }],
        }).length,
        1,
      );
      assert.deepEqual(resourceViolations(rules.ecsNoSecretsInEnvironment, td, {}), []);
    });
  });

  describe('IAM', () => {
    const rp = 'aws:iam/rolePolicy:RolePolicy';
    const doc = (statement: unknown) => JSON.stringify({ Version: '2012-10-17', Statement: statement });
    it('allows nothing through NotAction or NotResource', () => {
      assert.deepEqual(
        resourceViolations(rules.iamNoNotActionAllow, rp, {
          policy: doc([
            { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' },
            { Effect: 'Deny', NotAction: 's3:*', Resource: '*' },
          ]),
        }),
        [],
      );
      assert.deepEqual(
        resourceViolations(rules.iamNoNotActionAllow, rp, { policy: doc({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }) }),
        ['Policy r allows with NotAction (iam:*): list the actions it may take instead.'],
      );
      // Statement as an object, the policy as an object, Effect in any case: same answer.
      assert.equal(
        resourceViolations(rules.iamNoNotActionAllow, 'aws:iam/policy:Policy', {
          policy: { Statement: { Effect: 'allow', NotAction: ['s3:DeleteBucket'], Resource: '*' } },
        }).length,
        1,
      );
      assert.equal(
        resourceViolations(rules.iamNoNotActionAllow, 'aws:s3/bucketPolicy:BucketPolicy', {
          policy: doc([{ Effect: 'Allow', Principal: '*', NotAction: 's3:DeleteObject', Resource: '*' }]),
        }).length,
        1,
      );
    });
    it('allows no "*" and no whole service', () => {
      assert.deepEqual(
        resourceViolations(rules.iamNoServiceWildcards, rp, {
          policy: doc([
            { Effect: 'Allow', Action: ['s3:GetObject', 'ecr:GetAuthorizationToken'], Resource: '*' },
            { Effect: 'Deny', Action: 's3:*', Resource: '*' },
          ]),
        }),
        [],
      );
      assert.deepEqual(
        resourceViolations(rules.iamNoServiceWildcards, rp, {
          policy: doc({ Effect: 'Allow', Action: ['S3:*', 'sqs:SendMessage'], Resource: 'arn:aws:s3:::b' }),
        }),
        ['Policy r allows "s3:*": name the actions the role needs.'],
      );
      assert.deepEqual(
        resourceViolations(rules.iamNoServiceWildcards, 'aws:iam/role:Role', {
          inlinePolicies: [{ policy: doc({ Effect: 'Allow', Action: '*', Resource: '*' }) }],
        }),
        ['Policy r allows "*": name the actions the role needs.'],
      );
      // A KMS key policy's usual delegation to the account root is not a grant to anyone in particular.
      const keyPolicy = doc([{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'kms:*', Resource: '*' }]);
      assert.deepEqual(resourceViolations(rules.iamNoServiceWildcards, 'aws:kms/key:Key', { policy: keyPolicy }), []);
      assert.equal(
        resourceViolations(rules.iamNoServiceWildcards, 'aws:kms/key:Key', {
          policy: doc([{ Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'kms:*', Resource: '*' }]),
        }).length,
        1,
      );
      assert.equal(
        resourceViolations(rules.iamNoServiceWildcards, rp, { policy: doc({ Effect: 'Allow', Action: '*:*', Resource: 'arn:aws:s3:::b' }) })
          .length,
        1,
      );
      assert.deepEqual(
        resourceViolations(rules.iamNoServiceWildcards, rp, {
          policy: doc({ Effect: 'Allow', Action: 's3:Get*', Resource: 'arn:aws:s3:::b/*' }),
        }),
        [],
        'a verb prefix is not a whole service',
      );
      assert.deepEqual(resourceViolations(rules.iamNoServiceWildcards, rp, { policy: 'not json' }), []);
      assert.deepEqual(resourceViolations(rules.iamNoServiceWildcards, rp, {}), []);
    });
    it('allows iam:PassRole only on named roles', () => {
      assert.deepEqual(
        resourceViolations(rules.iamNoPassRoleOnStar, rp, {
          policy: doc({ Effect: 'Allow', Action: 'iam:PassRole', Resource: 'arn:aws:iam::123456789012:role/grading-task' }),
        }),
        [],
      );
      assert.deepEqual(
        resourceViolations(rules.iamNoPassRoleOnStar, rp, { policy: doc({ Effect: 'Allow', Action: 'iam:passrole', Resource: '*' }) }),
        ['Policy r allows iam:PassRole on *: name the roles it may pass.'],
      );
      assert.equal(
        resourceViolations(rules.iamNoPassRoleOnStar, rp, {
          policy: doc({ Effect: 'Allow', Action: ['iam:Pass*'], Resource: ['arn:aws:iam::123456789012:role/*'] }),
        }).length,
        1,
      );
      assert.equal(
        resourceViolations(rules.iamNoPassRoleOnStar, rp, { policy: doc({ Effect: 'Allow', Action: '*', Resource: '*' }) }).length,
        1,
        '"*" includes PassRole',
      );
      assert.equal(
        resourceViolations(rules.iamNoPassRoleOnStar, 'aws:iam/policy:Policy', {
          policy: { Statement: [{ Effect: 'Allow', Action: 'iam:*', Resource: 'arn:aws:iam::*:*' }] },
        }).length,
        1,
      );
    });
    it('attaches no privileged AWS managed policy', () => {
      const attachment = 'aws:iam/rolePolicyAttachment:RolePolicyAttachment';
      for (const ok of ['AmazonSSMManagedInstanceCore', 'service-role/AmazonECSTaskExecutionRolePolicy', 'ReadOnlyAccess'])
        assert.deepEqual(
          resourceViolations(rules.iamNoPrivilegedManagedPolicies, attachment, { policyArn: `arn:aws:iam::aws:policy/${ok}` }),
          [],
          ok,
        );
      assert.deepEqual(
        resourceViolations(rules.iamNoPrivilegedManagedPolicies, attachment, { policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }),
        ['IAM attachment r grants the privileged AWS managed policy AdministratorAccess.'],
      );
      for (const bad of ['PowerUserAccess', 'IAMFullAccess', 'AmazonS3FullAccess', 'job-function/SystemAdministrator'])
        assert.equal(
          resourceViolations(rules.iamNoPrivilegedManagedPolicies, 'aws:iam/userPolicyAttachment:UserPolicyAttachment', {
            policyArn: `arn:aws:iam::aws:policy/${bad}`,
          }).length,
          1,
          bad,
        );
      assert.deepEqual(
        resourceViolations(rules.iamNoPrivilegedManagedPolicies, 'aws:iam/role:Role', {
          managedPolicyArns: ['arn:aws:iam::aws:policy/PowerUserAccess'],
        }),
        ['IAM role r grants the privileged AWS managed policy PowerUserAccess.'],
      );
    });
  });

  describe('secrets', () => {
    it('keeps passwords, tokens and keys in SecureString parameters', () => {
      const param = 'aws:ssm/parameter:Parameter';
      assert.deepEqual(resourceViolations(rules.ssmSecretsAreSecure, param, { name: '/prod/db/password', type: 'SecureString' }), []);
      assert.deepEqual(resourceViolations(rules.ssmSecretsAreSecure, param, { name: '/prod/db/endpoint', type: 'String' }), []);
      assert.deepEqual(resourceViolations(rules.ssmSecretsAreSecure, param, { name: '/prod/db/password', type: 'String' }), [
        'SSM parameter /prod/db/password holds a secret as String: use SecureString.',
      ]);
      for (const name of ['/prod/judge0/auth-token', '/prod/review/api-key', '/prod/jwt-secret'])
        assert.equal(resourceViolations(rules.ssmSecretsAreSecure, param, { name, type: 'StringList' }).length, 1, name);
      assert.equal(
        resourceViolations(rules.ssmSecretsAreSecure, param, { name: '/prod/app/db', type: 'String', description: 'the database password' })
          .length,
        1,
      );
    });
    it('finds secrets in user data, base64 or not, but not parameter names', () => {
      const lt = 'aws:ec2/launchTemplate:LaunchTemplate';
      const b64 = (text: string) => Buffer.from(text).toString('base64');
      const good = '#!/bin/bash\ndocker run -e DB_PASSWORD_PARAM=/prod/db/password -e PASSWORD="$(aws ssm get-parameter ...)" img';
      assert.deepEqual(
        resourceViolations(rules.noSecretsInUserData, lt, { userData: b64(good), metadataOptions: { httpTokens: 'required' } }),
        [],
      );
      assert.deepEqual(
        resourceViolations(rules.noSecretsInUserData, lt, {
          userData: b64('#!/bin/bash\ndocker run -e DB_PASSWORD=hunter2 -e API_KEY=sk-123 img'),
        }),
        ['Launch template r has secrets in its user data (DB_PASSWORD, API_KEY): read them from SSM at boot.'],
      );
      assert.equal(
        resourceViolations(rules.noSecretsInUserData, 'aws:ec2/instance:Instance', { userData: "export REDIS_PASSWORD='x$y'" }).length,
        1,
      );
      assert.deepEqual(resourceViolations(rules.noSecretsInUserData, 'aws:ec2/instance:Instance', {}), []);
      assert.deepEqual(
        resourceViolations(rules.noSecretsInUserData, 'aws:ec2/instance:Instance', {
          userData: '#cloud-config\nchpasswd: {expire: false}\nruncmd:\n  - [docker, login, --password-stdin]\n  - AUTH_MODE=jwt',
        }),
        [],
      );
      const flags =
        '#!/bin/bash\nmysql -h db -u admin -pS3cr3t grading < schema.sql\ncurl --token abc123 https://x\naws configure set aws_secret_access_key wJalrXUt';
      assert.deepEqual(resourceViolations(rules.noSecretsInUserData, 'aws:ec2/instance:Instance', { userData: flags }), [
        'EC2 instance r has secrets in its user data (--token, mysql -p, aws_secret_access_key): read them from SSM at boot.',
      ]);
    });
  });

  describe('databases', () => {
    const group = (name: string, parameters: unknown[]) => ({
      type: 'aws:rds/parameterGroup:ParameterGroup',
      name,
      props: { name, family: 'mysql8.4', parameters },
    });
    const db = (parameterGroupName?: string) => ({ type: 'aws:rds/instance:Instance', name: 'db', props: { parameterGroupName } });
    it('requires a parameter group that requires TLS', () => {
      const tls = group('tls', [{ name: 'require_secure_transport', value: '1' }]);
      assert.deepEqual(stackViolations(rules.rdsRequiresTls, [tls, db('tls')]), []);
      assert.deepEqual(stackViolations(rules.rdsRequiresTls, [tls, db(undefined)]), [], 'unknown name with a TLS group in the stack');
      assert.deepEqual(
        stackViolations(rules.rdsRequiresTls, [group('plain', [{ name: 'character_set_server', value: 'utf8mb4' }]), db('plain')]),
        ['RDS instance db must use a parameter group that sets require_secure_transport = 1 (got plain).'],
      );
      assert.deepEqual(stackViolations(rules.rdsRequiresTls, [db(undefined)]), [
        'RDS instance db must use a parameter group that sets require_secure_transport = 1 (got the default group).',
      ]);
      assert.equal(stackViolations(rules.rdsRequiresTls, [tls, db('default.mysql8.4')]).length, 1);
      const byResourceName = {
        type: 'aws:rds/parameterGroup:ParameterGroup',
        name: 'pg',
        props: { family: 'mysql8.4', parameters: [{ name: 'require_secure_transport', value: 1 }] },
      };
      assert.deepEqual(stackViolations(rules.rdsRequiresTls, [byResourceName, db('pg')]), [], 'matched by resource name');
      assert.deepEqual(stackViolations(rules.rdsRequiresTls, [byResourceName, db('pg-0a1b2c')]), [], 'a generated physical name');
      const cluster = { type: 'aws:rds/cluster:Cluster', name: 'aurora', props: { dbClusterParameterGroupName: 'cpg' } };
      const clusterGroup = (value: string) => ({
        type: 'aws:rds/clusterParameterGroup:ClusterParameterGroup',
        name: 'cpg',
        props: { name: 'cpg', parameters: [{ name: 'require_secure_transport', value }] },
      });
      assert.deepEqual(stackViolations(rules.rdsRequiresTls, [cluster, clusterGroup('ON')]), []);
      assert.deepEqual(stackViolations(rules.rdsRequiresTls, [cluster, clusterGroup('OFF')]), [
        'RDS cluster aurora must use a parameter group that sets require_secure_transport = 1 (got cpg).',
      ]);
    });
    it('checks each parameter group itself', () => {
      assert.deepEqual(
        resourceViolations(rules.rdsParameterGroupRequiresTls, 'aws:rds/parameterGroup:ParameterGroup', {
          family: 'mysql8.4',
          parameters: [{ name: 'require_secure_transport', value: 'ON' }],
        }),
        [],
      );
      assert.deepEqual(
        resourceViolations(rules.rdsParameterGroupRequiresTls, 'aws:rds/parameterGroup:ParameterGroup', {
          family: 'mysql8.4',
          parameters: [{ name: 'require_secure_transport', value: '0' }],
        }),
        ['RDS parameter group r must require TLS (require_secure_transport = 1, or rds.force_ssl = 1 for PostgreSQL).'],
      );
    });
  });

  describe('load balancers', () => {
    const lb = (props: Props) => ({
      type: 'aws:lb/loadBalancer:LoadBalancer',
      name: 'alb',
      props: { arn: 'arn:lb/app/alb/1', name: 'alb', internal: false, ...props },
    });
    const listener = (name: string, props: Props) => ({
      type: 'aws:lb/listener:Listener',
      name,
      props: { loadBalancerArn: 'arn:lb/app/alb/1', ...props },
    });
    const forward = [{ type: 'forward', targetGroupArn: 'tg' }];
    const redirect = [{ type: 'redirect', redirect: { protocol: 'HTTPS', port: '443', statusCode: 'HTTP_301' } }];
    it('forwards no plain HTTP on a public ALB', () => {
      assert.deepEqual(
        stackViolations(rules.albNoPlainHttpForwarding, [
          lb({}),
          listener('http', { port: 80, protocol: 'HTTP', defaultActions: redirect }),
          listener('https', { port: 443, protocol: 'HTTPS', certificateArn: 'c', defaultActions: forward }),
        ]),
        [],
      );
      assert.deepEqual(
        stackViolations(rules.albNoPlainHttpForwarding, [
          lb({}),
          listener('http', { port: 80, protocol: 'HTTP', defaultActions: forward }),
        ]),
        ['Listener http forwards plain HTTP from a public load balancer: redirect port 80 to HTTPS instead.'],
      );
      assert.deepEqual(
        stackViolations(rules.albNoPlainHttpForwarding, [
          lb({ internal: true }),
          listener('http', { port: 80, protocol: 'HTTP', defaultActions: forward }),
        ]),
        [],
        'internal balancer',
      );
      assert.equal(
        stackViolations(rules.albNoPlainHttpForwarding, [
          lb({}),
          listener('http', {
            port: 8080,
            protocol: 'http',
            loadBalancerArn: undefined,
            defaultActions: [{ forward: { targetGroups: [] } }],
          }),
        ]).length,
        1,
      );
    });
    it('requires HTTPS in production', () => {
      const http = listener('http', { port: 80, protocol: 'HTTP', defaultActions: redirect });
      assert.deepEqual(
        stackViolations(
          rules.productionHttpsOnly,
          [lb({}), http, listener('https', { port: 443, protocol: 'HTTPS', certificateArn: 'c', defaultActions: forward })],
          'production',
        ),
        [],
      );
      assert.deepEqual(stackViolations(rules.productionHttpsOnly, [lb({}), http], 'production'), [
        'Load balancer alb has no HTTPS listener with a certificate: production serves HTTPS only (set certificateArn).',
      ]);
      assert.deepEqual(stackViolations(rules.productionHttpsOnly, [lb({}), http], 'staging'), []);
    });
    it('drops invalid headers and writes access logs', () => {
      const alb = 'aws:lb/loadBalancer:LoadBalancer';
      assert.deepEqual(
        resourceViolations(rules.albHardened, alb, { dropInvalidHeaderFields: true, accessLogs: { bucket: 'logs', enabled: true } }),
        [],
      );
      assert.deepEqual(resourceViolations(rules.albHardened, alb, { loadBalancerType: 'network', internal: true }), []);
      assert.deepEqual(resourceViolations(rules.albHardened, alb, {}), [
        'Load balancer r must drop invalid header fields (dropInvalidHeaderFields = true).',
        'Load balancer r must write access logs to S3 (accessLogs with a bucket, enabled).',
      ]);
    });
  });

  describe('logs, brokers and alarms', () => {
    it('keeps no log group forever', () => {
      assert.deepEqual(resourceViolations(rules.logGroupsHaveRetention, 'aws:cloudwatch/logGroup:LogGroup', { retentionInDays: 30 }), []);
      assert.deepEqual(resourceViolations(rules.logGroupsHaveRetention, 'aws:cloudwatch/logGroup:LogGroup', {}), [
        'CloudWatch log group r keeps its logs forever: set retentionInDays.',
      ]);
      assert.equal(resourceViolations(rules.logGroupsHaveRetention, 'aws:cloudwatch/logGroup:LogGroup', { retentionInDays: 0 }).length, 1);
    });
    it('gives no broker user console access', () => {
      assert.deepEqual(
        resourceViolations(rules.mqNoConsoleUsers, 'aws:mq/broker:Broker', { users: [{ username: 'a', consoleAccess: false }] }),
        [],
      );
      assert.deepEqual(
        resourceViolations(rules.mqNoConsoleUsers, 'aws:mq/broker:Broker', { users: [{ username: 'ops', consoleAccess: true }] }),
        ['Amazon MQ broker r: user ops must not have console access.'],
      );
    });
    it('puts no topic under alias/aws/sns, and an alarm topic key lets CloudWatch use it', () => {
      assert.deepEqual(
        resourceViolations(rules.snsNoAwsManagedKey, 'aws:sns/topic:Topic', { kmsMasterKeyId: 'arn:aws:kms:us-east-1:1:key/k' }),
        [],
      );
      assert.equal(resourceViolations(rules.snsNoAwsManagedKey, 'aws:sns/topic:Topic', { kmsMasterKeyId: 'alias/aws/sns' }).length, 1);
      const alarm = {
        type: 'aws:cloudwatch/metricAlarm:MetricAlarm',
        name: 'a',
        props: { alarmActions: ['arn:aws:sns:us-east-1:1:alarms'] },
      };
      const topic = {
        type: 'aws:sns/topic:Topic',
        name: 'alarms',
        props: { arn: 'arn:aws:sns:us-east-1:1:alarms', kmsMasterKeyId: 'arn:aws:kms:us-east-1:1:key/k1' },
      };
      const key = (statement: unknown[]) => ({
        type: 'aws:kms/key:Key',
        name: 'k',
        props: { arn: 'arn:aws:kms:us-east-1:1:key/k1', policy: JSON.stringify({ Statement: statement }) },
      });
      const root = { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::1:root' }, Action: 'kms:*', Resource: '*' };
      assert.deepEqual(
        stackViolations(rules.alarmTopicKeyUsable, [
          alarm,
          topic,
          key([
            root,
            {
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
              Resource: '*',
            },
          ]),
        ]),
        [],
      );
      assert.deepEqual(stackViolations(rules.alarmTopicKeyUsable, [alarm, topic, key([root])]), [
        'KMS key k of alarm topic alarms must let cloudwatch.amazonaws.com use kms:Decrypt and kms:GenerateDataKey*.',
      ]);
    });
    it('requires the mq.amazonaws.com log resource policy for a broker with logs', () => {
      const broker = { type: 'aws:mq/broker:Broker', name: 'b', props: { logs: { general: true, audit: true } } };
      const policy = (doc: unknown) => ({
        type: 'aws:cloudwatch/logResourcePolicy:LogResourcePolicy',
        name: 'p',
        props: { policyName: 'mq', policyDocument: JSON.stringify(doc) },
      });
      const allow = {
        Effect: 'Allow',
        Principal: { Service: 'mq.amazonaws.com' },
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: 'arn:aws:logs:*:*:log-group:/aws/amazonmq/*',
      };
      assert.deepEqual(stackViolations(rules.mqLogsResourcePolicy, [broker, policy({ Statement: [allow] })]), []);
      const scoped = { ...allow, Action: 'logs:*', Resource: ['arn:aws:logs:eu-west-1:111122223333:log-group:/aws/amazonmq/*:*'] };
      assert.deepEqual(stackViolations(rules.mqLogsResourcePolicy, [broker, policy({ Statement: scoped })]), [], 'Statement as one object');
      const elsewhere = { ...allow, Resource: 'arn:aws:logs:*:*:log-group:/aws/lambda/*' };
      assert.equal(stackViolations(rules.mqLogsResourcePolicy, [broker, policy({ Statement: [elsewhere] })]).length, 1);
      assert.deepEqual(stackViolations(rules.mqLogsResourcePolicy, [broker]), [
        'Amazon MQ broker b publishes logs, but no CloudWatch Logs resource policy lets mq.amazonaws.com write to /aws/amazonmq/*: its logs would never arrive.',
      ]);
      assert.equal(
        stackViolations(rules.mqLogsResourcePolicy, [
          broker,
          policy({ Statement: [{ ...allow, Principal: { Service: 'es.amazonaws.com' } }] }),
        ]).length,
        1,
      );
      assert.deepEqual(stackViolations(rules.mqLogsResourcePolicy, [{ ...broker, props: { logs: { general: false, audit: false } } }]), []);
    });
    it('alarms on both brokers of an active/standby pair', () => {
      const broker = { type: 'aws:mq/broker:Broker', name: 'mq', props: { brokerName: 'prod', deploymentMode: 'ACTIVE_STANDBY_MULTI_AZ' } };
      const alarm = (name: string, brokerValue: string) => ({
        type: 'aws:cloudwatch/metricAlarm:MetricAlarm',
        name,
        props: { namespace: 'AWS/AmazonMQ', metricName: 'QueueSize', dimensions: { Broker: brokerValue, Queue: 'q' } },
      });
      const math = {
        type: 'aws:cloudwatch/metricAlarm:MetricAlarm',
        name: 'm',
        props: {
          metricQueries: ['prod-1', 'prod-2'].map((b, i) => ({
            id: `q${i}`,
            metric: { namespace: 'AWS/AmazonMQ', metricName: 'ConsumerCount', dimensions: { Broker: b, Queue: 'q' } },
          })),
        },
      };
      assert.deepEqual(stackViolations(rules.alarmsCoverBothBrokers, [broker, alarm('a1', 'prod-1'), alarm('a2', 'prod-2'), math]), []);
      assert.deepEqual(stackViolations(rules.alarmsCoverBothBrokers, [broker, alarm('a1', 'prod-1'), math]), [
        'Alarms on QueueSize (Queue=q) watch only prod-1 of active/standby broker mq: also watch prod-2 (or use metric math over both).',
      ]);
      assert.deepEqual(
        stackViolations(rules.alarmsCoverBothBrokers, [
          { ...broker, props: { brokerName: 'prod', deploymentMode: 'SINGLE_INSTANCE' } },
          alarm('a1', 'prod-1'),
        ]),
        [],
      );
    });
    it('shares no broker user between tiers in production', () => {
      const param = (name: string) => ({ type: 'aws:ssm/parameter:Parameter', name, props: { name, type: 'SecureString' } });
      const reader = (role: string, names: string[]) => ({
        type: 'aws:iam/rolePolicy:RolePolicy',
        name: `${role}-policy`,
        props: {
          role,
          policy: JSON.stringify({
            Statement: [
              { Effect: 'Allow', Action: 'ssm:GetParameter', Resource: names.map((n) => `arn:aws:ssm:us-east-1:1:parameter${n}`) },
            ],
          }),
        },
      });
      const broker = (users: number) => ({
        type: 'aws:mq/broker:Broker',
        name: 'mq',
        props: { users: Array.from({ length: users }, (_, i) => ({ username: `u${i}` })) },
      });
      const separate = [
        broker(3),
        param('/prod/mq/worker/password'),
        param('/prod/mq/gateway/password'),
        reader('worker', ['/prod/mq/worker/password']),
        reader('gateway', ['/prod/mq/gateway/password']),
      ];
      assert.deepEqual(stackViolations(rules.mqNoSharedAdminUser, separate, 'production'), []);
      const shared = [broker(1), param('/prod/mq/password'), reader('worker', ['/prod/mq/password']), reader('gateway', ['/prod/mq/*'])];
      assert.deepEqual(stackViolations(rules.mqNoSharedAdminUser, shared, 'production'), [
        'Broker password /prod/mq/password is readable by 2 roles (worker, gateway): give each tier its own broker user.',
        'Amazon MQ broker mq has a single user, so every tier shares it: create one user per tier.',
      ]);
      assert.deepEqual(stackViolations(rules.mqNoSharedAdminUser, shared, 'staging'), []);
      // The same credential given to two tiers' compute (a task definition and a launch template's user data).
      const task = {
        type: 'aws:ecs/taskDefinition:TaskDefinition',
        name: 'worker-td',
        props: {
          containerDefinitions: JSON.stringify([{ name: 'w', environment: [{ name: 'MQ_PASSWORD_PARAM', value: '/prod/mq/password' }] }]),
        },
      };
      const lt = {
        type: 'aws:ec2/launchTemplate:LaunchTemplate',
        name: 'web-lt',
        props: { userData: Buffer.from('docker run -e MQ_PASSWORD_PARAM=/prod/mq/password img').toString('base64') },
      };
      assert.deepEqual(stackViolations(rules.mqNoSharedAdminUser, [broker(3), param('/prod/mq/password'), task, lt], 'production'), [
        'Broker password /prod/mq/password is given to 2 tiers (worker-td, web-lt): give each tier its own broker user.',
      ]);
      // Without the pack's environmentName, the resources' Environment tag says production.
      const tagged = shared.map((r) => ({ ...r, props: { ...r.props, tags: { Environment: 'production' } } }));
      assert.equal(stackViolations(rules.mqNoSharedAdminUser, tagged, '').length, 2);
    });
  });

  describe('EC2', () => {
    it('requires IMDSv2 on instances and launch templates', () => {
      assert.deepEqual(
        resourceViolations(rules.ec2Imdsv2, 'aws:ec2/instance:Instance', { metadataOptions: { httpTokens: 'required' } }),
        [],
      );
      assert.deepEqual(resourceViolations(rules.ec2Imdsv2, 'aws:ec2/instance:Instance', { metadataOptions: { httpTokens: 'optional' } }), [
        'EC2 instance r must require IMDSv2 (metadataOptions.httpTokens = "required").',
      ]);
      assert.deepEqual(resourceViolations(rules.ec2Imdsv2, 'aws:ec2/launchTemplate:LaunchTemplate', {}), [
        'Launch template r must require IMDSv2 (metadataOptions.httpTokens = "required").',
      ]);
    });
    it('requires encrypted root volumes', () => {
      assert.deepEqual(
        resourceViolations(rules.ec2EncryptedRoot, 'aws:ec2/instance:Instance', { rootBlockDevice: { encrypted: true } }),
        [],
      );
      assert.deepEqual(resourceViolations(rules.ec2EncryptedRoot, 'aws:ec2/instance:Instance', { rootBlockDevice: {} }), [
        'EC2 instance r must encrypt its root volume.',
      ]);
      assert.deepEqual(
        resourceViolations(rules.ec2EncryptedRoot, 'aws:ec2/launchTemplate:LaunchTemplate', {
          blockDeviceMappings: [{ ebs: { encrypted: 'true' } }],
        }),
        [],
      );
      assert.deepEqual(
        resourceViolations(rules.ec2EncryptedRoot, 'aws:ec2/launchTemplate:LaunchTemplate', {
          blockDeviceMappings: [{ ebs: { encrypted: 'false' } }],
        }),
        ['Launch template r must encrypt its EBS volumes.'],
      );
    });
  });

  it('requires an action on every alarm', () => {
    assert.deepEqual(
      resourceViolations(rules.alarmsHaveActions, 'aws:cloudwatch/metricAlarm:MetricAlarm', {
        alarmActions: ['arn:aws:sns:us-east-1:1:t'],
      }),
      [],
    );
    assert.deepEqual(resourceViolations(rules.alarmsHaveActions, 'aws:cloudwatch/metricAlarm:MetricAlarm', { alarmActions: [] }), [
      'CloudWatch alarm r has no alarm action.',
    ]);
  });

  describe('deploy breakers', () => {
    it('keeps autoMinorVersionUpgrade on for ActiveMQ 5.18+', () => {
      const broker = 'aws:mq/broker:Broker';
      assert.deepEqual(
        resourceViolations(rules.mqAutoMinorVersionUpgrade, broker, { engineVersion: '5.18', autoMinorVersionUpgrade: true }),
        [],
      );
      assert.deepEqual(
        resourceViolations(rules.mqAutoMinorVersionUpgrade, broker, { engineVersion: '5.17.6', autoMinorVersionUpgrade: false }),
        [],
      );
      assert.deepEqual(
        resourceViolations(rules.mqAutoMinorVersionUpgrade, broker, { engineVersion: '5.19', autoMinorVersionUpgrade: false }),
        ['Amazon MQ broker r must set autoMinorVersionUpgrade = true (required for ActiveMQ 5.18 and later).'],
      );
    });
    it('gives broker messages a lifetime', () => {
      const config = 'aws:mq/configuration:Configuration';
      assert.deepEqual(resourceViolations(rules.mqMessagesExpire, config, { engineType: 'ActiveMQ', data: renderBrokerConfigXml() }), []);
      assert.deepEqual(
        resourceViolations(rules.mqMessagesExpire, config, {
          engineType: 'ActiveMQ',
          data: '<broker xmlns="http://activemq.apache.org/schema/core"><plugins/></broker>',
        }),
        ['Amazon MQ configuration r must give messages a lifetime (timeStampingBrokerPlugin zeroExpirationOverride > 0).'],
      );
    });
    it('runs MySQL in standard support', () => {
      assert.deepEqual(
        resourceViolations(rules.rdsSupportedMysql, 'aws:rds/instance:Instance', { engine: 'mysql', engineVersion: '8.4' }),
        [],
      );
      assert.deepEqual(
        resourceViolations(rules.rdsSupportedMysql, 'aws:rds/instance:Instance', { engine: 'mysql', engineVersion: '8.0.39' }),
        ['RDS instance r runs MySQL 8.0.39, past standard support: use 8.4.'],
      );
      assert.deepEqual(resourceViolations(rules.rdsSupportedMysql, 'aws:rds/parameterGroup:ParameterGroup', { family: 'mysql8.0' }), [
        'RDS parameter group r is for mysql8.0, past standard support: use mysql8.4.',
      ]);
    });
    it('names buckets by prefix', () => {
      assert.deepEqual(resourceViolations(rules.s3NoFixedBucketName, 'aws:s3/bucket:Bucket', { bucketPrefix: 'prod-grading-files-' }), []);
      assert.deepEqual(resourceViolations(rules.s3NoFixedBucketName, 'aws:s3/bucket:Bucket', { bucket: 'prod-grading-files' }), [
        'S3 bucket r has the fixed global name "prod-grading-files": use bucketPrefix and read the name from the stack.',
      ]);
    });
    it('follows the launch template version with an instance refresh', () => {
      const asg = 'aws:autoscaling/group:Group';
      assert.deepEqual(
        resourceViolations(rules.asgFollowsLaunchTemplate, asg, {
          launchTemplate: { id: 'lt', version: '3' },
          instanceRefresh: { strategy: 'Rolling' },
        }),
        [],
      );
      assert.deepEqual(resourceViolations(rules.asgFollowsLaunchTemplate, asg, { launchTemplate: { id: 'lt', version: '$Latest' } }), [
        "Auto Scaling group r uses launch template version $Latest: a template change never replaces instances; use the template's latestVersion.",
        'Auto Scaling group r has no instanceRefresh: a new launch template version would reach only new instances.',
      ]);
    });
    it('gives a growing Auto Scaling group a scaling policy', () => {
      const asg = { type: 'aws:autoscaling/group:Group', name: 'web', props: { name: 'web-asg', minSize: 1, maxSize: 4 } };
      const policy = {
        type: 'aws:autoscaling/policy:Policy',
        name: 'cpu',
        props: { autoscalingGroupName: 'web-asg', policyType: 'TargetTrackingScaling' },
      };
      assert.deepEqual(stackViolations(rules.asgHasScalingPolicy, [asg, policy]), []);
      assert.deepEqual(stackViolations(rules.asgHasScalingPolicy, [asg]), [
        'Auto Scaling group web has no scaling policy: it stays at its desired capacity under any load.',
      ]);
      assert.deepEqual(
        stackViolations(rules.asgHasScalingPolicy, [{ ...asg, props: { minSize: 2, maxSize: 2 } }]),
        [],
        'a fixed-size group',
      );
    });
    it('lets docker-build push its tag again', () => {
      const image = {
        type: 'docker-build:index:Image',
        name: 'img',
        props: { push: true, tags: ['1.dkr.ecr.us-east-1.amazonaws.com/prod-worker:abc'] },
      };
      const repo = (imageTagMutability: string) => ({
        type: 'aws:ecr/repository:Repository',
        name: 'repo',
        props: { name: 'prod-worker', imageTagMutability },
      });
      assert.deepEqual(stackViolations(rules.ecrTagsRepushable, [image, repo('MUTABLE')]), []);
      assert.deepEqual(stackViolations(rules.ecrTagsRepushable, [repo('IMMUTABLE')]), [], 'no build in the stack');
      assert.deepEqual(stackViolations(rules.ecrTagsRepushable, [image, repo('IMMUTABLE')]), [
        'ECR repository repo is IMMUTABLE but docker-build pushes its tag again on every context change: make it MUTABLE and run images by digest.',
      ]);
    });
    it('lets instances pull the ECR image their user data runs', () => {
      const image = '111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/grader:1.4.0';
      const lt = {
        type: 'aws:ec2/launchTemplate:LaunchTemplate',
        name: 'web-lt',
        props: { userData: Buffer.from(`docker run -d ${image} node main.js`).toString('base64') },
      };
      const role = (resource: string) => ({
        type: 'aws:iam/rolePolicy:RolePolicy',
        name: 'web-policy',
        props: {
          policy: JSON.stringify({
            Statement: [{ Effect: 'Allow', Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], Resource: resource }],
          }),
        },
      });
      assert.deepEqual(
        stackViolations(rules.instancesCanPullTheirImages, [lt, role('arn:aws:ecr:eu-west-1:111122223333:repository/team/grader')]),
        [],
      );
      assert.deepEqual(
        stackViolations(rules.instancesCanPullTheirImages, [lt, role('arn:aws:ecr:eu-west-1:111122223333:repository/other')]),
        [
          'web-lt pulls team/grader from ECR, but no role of the stack may read it: allow ecr:BatchGetImage and ecr:GetDownloadUrlForLayer on arn:aws:ecr:eu-west-1:111122223333:repository/team/grader.',
        ],
      );
      const managed = {
        type: 'aws:iam/rolePolicyAttachment:RolePolicyAttachment',
        name: 'ro',
        props: { policyArn: 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly' },
      };
      assert.deepEqual(stackViolations(rules.instancesCanPullTheirImages, [lt, managed]), []);
      assert.deepEqual(
        stackViolations(rules.instancesCanPullTheirImages, [{ ...lt, props: { userData: 'docker run ghcr.io/acme/x:1' } }]),
        [],
        'not ECR',
      );
    });

    it('sends containers started from user data to CloudWatch Logs', () => {
      const lt = 'aws:ec2/launchTemplate:LaunchTemplate';
      const b64 = (text: string) => Buffer.from(text).toString('base64');
      assert.deepEqual(
        resourceViolations(rules.dockerLogsToCloudWatch, lt, {
          userData: b64('#!/bin/bash\ndocker run -d \\\n  --log-driver awslogs --log-opt awslogs-group=/g \\\n  img'),
        }),
        [],
      );
      assert.deepEqual(
        resourceViolations(rules.dockerLogsToCloudWatch, lt, { userData: b64('#!/bin/bash\ndocker run -d -p 3000:3000 img') }),
        ['Launch template r starts a container whose output never reaches CloudWatch: add --log-driver awslogs with a log group.'],
      );
    });
  });

  it('tolerates unknown (undefined) properties in every rule, as a preview shows them', () => {
    const types = [
      'aws:s3/bucket:Bucket',
      'aws:s3/bucketPolicy:BucketPolicy',
      'aws:mq/broker:Broker',
      'aws:rds/instance:Instance',
      'aws:rds/parameterGroup:ParameterGroup',
      'aws:ec2/securityGroup:SecurityGroup',
      'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule',
      'aws:ec2/securityGroupRule:SecurityGroupRule',
      'aws:lb/loadBalancer:LoadBalancer',
      'aws:lb/listener:Listener',
      'aws:ecs/service:Service',
      'aws:ecs/taskDefinition:TaskDefinition',
      'aws:iam/policy:Policy',
      'aws:iam/rolePolicy:RolePolicy',
      'aws:iam/role:Role',
      'aws:iam/rolePolicyAttachment:RolePolicyAttachment',
      'aws:ec2/instance:Instance',
      'aws:ec2/launchTemplate:LaunchTemplate',
      'aws:cloudwatch/metricAlarm:MetricAlarm',
      'aws:cloudwatch/logGroup:LogGroup',
      'aws:cloudwatch/logResourcePolicy:LogResourcePolicy',
      'aws:sns/topic:Topic',
      'aws:kms/key:Key',
      'aws:ssm/parameter:Parameter',
      'aws:autoscaling/group:Group',
      'aws:autoscaling/policy:Policy',
      'aws:mq/configuration:Configuration',
      'docker-build:index:Image',
      'aws:ecr/repository:Repository',
      'aws:rds/cluster:Cluster',
      'aws:rds/clusterParameterGroup:ClusterParameterGroup',
    ];
    const shapes: Props[] = [
      {},
      {
        policy: undefined,
        users: undefined,
        logs: undefined,
        containerDefinitions: undefined,
        defaultActions: undefined,
        ingress: [{}],
        inlinePolicies: [{}],
        metricQueries: [{}],
      },
      {
        policy: null,
        users: [null],
        containerDefinitions: '[null]',
        defaultActions: [null],
        parameters: [null],
        launchTemplate: null,
        tags: null,
        data: 42,
        userData: 7,
      },
      {
        ingress: [null, { cidrBlocks: '0.0.0.0/0' }],
        cidrBlocks: null,
        type: 'ingress',
        dimensions: null,
        metricQueries: [null],
        inlinePolicies: [null],
      },
    ];
    for (const environmentName of ['staging', 'production']) {
      for (const props of shapes) {
        for (const policy of rules.RESOURCE_POLICIES)
          for (const type of types)
            assert.doesNotThrow(() => resourceViolations(policy, type, props, environmentName), `${policy.name} on ${type}`);
        for (const policy of rules.STACK_POLICIES)
          assert.doesNotThrow(
            () =>
              stackViolations(
                policy,
                types.map((type, i) => ({ type, name: `r${i}`, props })),
                environmentName,
              ),
            policy.name,
          );
      }
    }
  });

  it('names every policy uniquely, in the form the policy engine accepts, with a description', () => {
    const names = rules.ALL_POLICIES.map((p) => p.name);
    assert.deepEqual(
      names.filter((n, i) => names.indexOf(n) !== i),
      [],
    );
    for (const p of rules.ALL_POLICIES) {
      assert.match(p.name, /^[a-z0-9][a-z0-9-]{2,99}$/, p.name);
      assert.ok(p.description.length > 10, p.name);
    }
  });

  it('ignores resources of other types', () => {
    assert.deepEqual(resourceViolations(rules.rdsEncrypted, 'aws:s3/bucket:Bucket', {}), []);
  });
});
