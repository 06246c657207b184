/**
 * Each CrossGuard rule, called the way the policy engine calls it (no Pulumi CLI): one compliant
 * and one violating case per rule, asserting the exact message.
 */
import assert from 'node:assert/strict';
import type { ResourceValidationPolicy, StackValidationPolicy } from '@pulumi/policy';
import * as rules from '../../policies/rules';

type Props = Record<string, unknown>;
const urn = (type: string, name: string) => `urn:pulumi:test::grading-stack::${type}::${name}`;

function resourceViolations(policy: ResourceValidationPolicy, type: string, props: Props, environmentName = 'staging', name = 'r'): string[] {
  const messages: string[] = [];
  const validate = policy.validateResource as (args: unknown, report: (m: string) => void) => void;
  validate(
    { type, props, urn: urn(type, name), name, opts: {}, stackTags: new Map(), isType: () => false, asType: () => undefined, getConfig: () => ({ environmentName }) },
    (m) => messages.push(m),
  );
  return messages;
}

function stackViolations(policy: StackValidationPolicy, resources: Array<{ type: string; name: string; props: Props }>, environmentName = 'staging'): string[] {
  const messages: string[] = [];
  policy.validateStack(
    { resources: resources.map((r) => ({ ...r, urn: urn(r.type, r.name), opts: {}, dependencies: [], propertyDependencies: {}, isType: () => false, asType: () => undefined })), getConfig: () => ({ environmentName }) } as never,
    (m: string) => messages.push(m),
  );
  return messages;
}

const BUCKET = { type: 'aws:s3/bucket:Bucket', name: 'files', props: { bucket: 'prod-grading-files' } };
const withBucket = (type: string, props: Props) => [BUCKET, { type, name: 'x', props: { bucket: 'prod-grading-files', ...props } }];
const TLS_POLICY = JSON.stringify({ Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }] });

describe('CrossGuard policies', () => {
  describe('S3', () => {
    it('requires default encryption', () => {
      assert.deepEqual(stackViolations(rules.s3Encryption, withBucket('aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration', { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }] })), []);
      assert.deepEqual(stackViolations(rules.s3Encryption, [BUCKET]), ['S3 bucket files has no default server-side encryption configuration.']);
    });
    it('requires versioning in production only', () => {
      const suspended = withBucket('aws:s3/bucketVersioning:BucketVersioning', { versioningConfiguration: { status: 'Suspended' } });
      assert.deepEqual(stackViolations(rules.s3VersioningInProduction, suspended, 'staging'), []);
      assert.deepEqual(stackViolations(rules.s3VersioningInProduction, suspended, 'production'), ['S3 bucket files must have versioning enabled in production.']);
      assert.deepEqual(stackViolations(rules.s3VersioningInProduction, withBucket('aws:s3/bucketVersioning:BucketVersioning', { versioningConfiguration: { status: 'Enabled' } }), 'production'), []);
    });
    it('requires all public access blocked', () => {
      const all = { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true };
      assert.deepEqual(stackViolations(rules.s3PublicAccessBlocked, withBucket('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock', all)), []);
      assert.deepEqual(stackViolations(rules.s3PublicAccessBlocked, withBucket('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock', { ...all, restrictPublicBuckets: false })), ['S3 bucket files must block all public access (all four settings true).']);
    });
    it('requires a TLS-only bucket policy', () => {
      assert.deepEqual(stackViolations(rules.s3TlsOnly, withBucket('aws:s3/bucketPolicy:BucketPolicy', { policy: TLS_POLICY })), []);
      assert.deepEqual(stackViolations(rules.s3TlsOnly, withBucket('aws:s3/bucketPolicy:BucketPolicy', { policy: JSON.stringify({ Statement: [] }) })), ['S3 bucket files needs a bucket policy that denies aws:SecureTransport=false.']);
    });
  });

  describe('Amazon MQ', () => {
    const broker = 'aws:mq/broker:Broker';
    it('keeps brokers private', () => {
      assert.deepEqual(resourceViolations(rules.mqNotPublic, broker, { publiclyAccessible: false }), []);
      assert.deepEqual(resourceViolations(rules.mqNotPublic, broker, { publiclyAccessible: true }), ['Amazon MQ broker r must not be publicly accessible.']);
    });
    it('requires general and audit logs', () => {
      assert.deepEqual(resourceViolations(rules.mqLogs, broker, { logs: { general: true, audit: true } }), []);
      assert.deepEqual(resourceViolations(rules.mqLogs, broker, { logs: { general: true, audit: false } }), ['Amazon MQ broker r must enable both general and audit logs.']);
    });
    it('requires multi-AZ in production, and only advises elsewhere', () => {
      assert.deepEqual(resourceViolations(rules.mqMultiAzInProduction, broker, { deploymentMode: 'ACTIVE_STANDBY_MULTI_AZ' }, 'production'), []);
      assert.deepEqual(resourceViolations(rules.mqMultiAzInProduction, broker, { deploymentMode: 'SINGLE_INSTANCE' }, 'production'), ['Amazon MQ broker r must use ACTIVE_STANDBY_MULTI_AZ in production.']);
      assert.deepEqual(resourceViolations(rules.mqMultiAzInProduction, broker, { deploymentMode: 'SINGLE_INSTANCE' }, 'staging'), []);
      assert.equal(rules.mqMultiAzAdvisory.enforcementLevel, 'advisory');
      assert.deepEqual(resourceViolations(rules.mqMultiAzAdvisory, broker, { deploymentMode: 'SINGLE_INSTANCE' }, 'staging'), ['Amazon MQ broker r is a single instance: a broker restart stops grading.']);
    });
  });

  describe('RDS', () => {
    const rds = 'aws:rds/instance:Instance';
    const good = { storageEncrypted: true, publiclyAccessible: false, backupRetentionPeriod: 7, deletionProtection: true };
    it('requires encryption', () => {
      assert.deepEqual(resourceViolations(rules.rdsEncrypted, rds, good), []);
      assert.deepEqual(resourceViolations(rules.rdsEncrypted, rds, { ...good, storageEncrypted: false }), ['RDS instance r must have storageEncrypted = true.']);
    });
    it('keeps databases private', () => {
      assert.deepEqual(resourceViolations(rules.rdsNotPublic, rds, good), []);
      assert.deepEqual(resourceViolations(rules.rdsNotPublic, rds, { ...good, publiclyAccessible: true }), ['RDS instance r must not be publicly accessible.']);
    });
    it('keeps backups for 7 days or more', () => {
      assert.deepEqual(resourceViolations(rules.rdsBackups, rds, good), []);
      assert.deepEqual(resourceViolations(rules.rdsBackups, rds, { ...good, backupRetentionPeriod: 3 }), ['RDS instance r must keep backups for at least 7 days (backupRetentionPeriod is 3).']);
    });
    it('requires deletion protection in production', () => {
      assert.deepEqual(resourceViolations(rules.rdsDeletionProtectionInProduction, rds, { ...good, deletionProtection: false }, 'staging'), []);
      assert.deepEqual(resourceViolations(rules.rdsDeletionProtectionInProduction, rds, { ...good, deletionProtection: false }, 'production'), ['RDS instance r must have deletion protection in production.']);
    });
  });

  describe('network', () => {
    const sg = (name: string) => ({ type: 'aws:ec2/securityGroup:SecurityGroup', name, props: { id: `sg-${name}` } });
    const alb = { type: 'aws:lb/loadBalancer:LoadBalancer', name: 'alb', props: { securityGroups: ['sg-alb'] } };
    const ingress = (name: string, group: string, port: number, cidr = '0.0.0.0/0') => ({ type: 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule', name, props: { securityGroupId: group, fromPort: port, toPort: port, cidrIpv4: cidr } });
    it('allows 80/443 from anywhere on the ALB only', () => {
      assert.deepEqual(stackViolations(rules.noPublicIngress, [sg('alb'), alb, ingress('https', 'sg-alb', 443), ingress('inner', 'sg-app', 3000, '10.0.0.0/16')]), []);
      assert.deepEqual(stackViolations(rules.noPublicIngress, [sg('alb'), sg('app'), alb, ingress('app-open', 'sg-app', 443)]), ['Security group ingress app-open is open to the internet on ports 443-443; only 80/443 on a load balancer may be.']);
      assert.deepEqual(stackViolations(rules.noPublicIngress, [sg('alb'), alb, ingress('alb-8080', 'sg-alb', 8080)]), ['Security group ingress alb-8080 is open to the internet on ports 8080-8080; only 80/443 on a load balancer may be.']);
    });
    it('checks inline rules and IPv6 too', () => {
      const inline = { type: 'aws:ec2/securityGroup:SecurityGroup', name: 'legacy', props: { id: 'sg-legacy', ingress: [{ fromPort: 5432, toPort: 5432, ipv6CidrBlocks: ['::/0'] }] } };
      assert.deepEqual(stackViolations(rules.noPublicIngress, [inline]), ['Security group ingress legacy is open to the internet on ports 5432-5432; only 80/443 on a load balancer may be.']);
    });
    it('never opens SSH to the internet', () => {
      assert.deepEqual(stackViolations(rules.noPublicSsh, [ingress('ssh-vpc', 'sg-j', 22, '10.0.0.0/16')]), []);
      assert.deepEqual(stackViolations(rules.noPublicSsh, [ingress('ssh', 'sg-j', 22)]), ['Security group ingress ssh opens SSH (22) to the internet.']);
    });
  });

  describe('ECS and IAM', () => {
    const taskDef = (container: Props) => ({ containerDefinitions: JSON.stringify([{ name: 'worker', logConfiguration: { logDriver: 'awslogs' }, ...container }]) });
    it('gives tasks no public IP', () => {
      assert.deepEqual(resourceViolations(rules.ecsNoPublicIp, 'aws:ecs/service:Service', { networkConfiguration: { assignPublicIp: false } }), []);
      assert.deepEqual(resourceViolations(rules.ecsNoPublicIp, 'aws:ecs/service:Service', { networkConfiguration: { assignPublicIp: true } }), ['ECS service r must not assign public IPs to its tasks.']);
    });
    it('runs no privileged container', () => {
      assert.deepEqual(resourceViolations(rules.ecsNoPrivileged, 'aws:ecs/taskDefinition:TaskDefinition', taskDef({})), []);
      assert.deepEqual(resourceViolations(rules.ecsNoPrivileged, 'aws:ecs/taskDefinition:TaskDefinition', taskDef({ privileged: true })), ['ECS task definition r: container worker must not be privileged.']);
    });
    it('configures logs for every container', () => {
      assert.deepEqual(resourceViolations(rules.ecsLogsConfigured, 'aws:ecs/taskDefinition:TaskDefinition', taskDef({})), []);
      assert.deepEqual(resourceViolations(rules.ecsLogsConfigured, 'aws:ecs/taskDefinition:TaskDefinition', taskDef({ logConfiguration: undefined })), ['ECS task definition r: container worker has no logConfiguration.']);
    });
    it('allows no "*" action on "*" resource', () => {
      const doc = (Action: unknown, Resource: unknown) => JSON.stringify({ Statement: [{ Effect: 'Allow', Action, Resource }] });
      assert.deepEqual(resourceViolations(rules.iamNoStarOnStar, 'aws:iam/rolePolicy:RolePolicy', { policy: doc('ecr:GetAuthorizationToken', '*') }), []);
      assert.deepEqual(resourceViolations(rules.iamNoStarOnStar, 'aws:iam/rolePolicy:RolePolicy', { policy: doc(['*'], '*') }), ['IAM policy r allows "*" actions on "*" resources.']);
      assert.deepEqual(resourceViolations(rules.iamNoStarOnStar, 'aws:iam/role:Role', { inlinePolicies: [{ policy: doc('*', ['*']) }] }), ['IAM policy r allows "*" actions on "*" resources.']);
    });
    it('attaches no AdministratorAccess', () => {
      assert.deepEqual(resourceViolations(rules.iamNoAdminAttachment, 'aws:iam/rolePolicyAttachment:RolePolicyAttachment', { policyArn: 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore' }), []);
      assert.deepEqual(resourceViolations(rules.iamNoAdminAttachment, 'aws:iam/rolePolicyAttachment:RolePolicyAttachment', { policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }), ['IAM attachment r grants AdministratorAccess.']);
    });
  });

  describe('EC2', () => {
    it('requires IMDSv2 on instances and launch templates', () => {
      assert.deepEqual(resourceViolations(rules.ec2Imdsv2, 'aws:ec2/instance:Instance', { metadataOptions: { httpTokens: 'required' } }), []);
      assert.deepEqual(resourceViolations(rules.ec2Imdsv2, 'aws:ec2/instance:Instance', { metadataOptions: { httpTokens: 'optional' } }), ['EC2 instance r must require IMDSv2 (metadataOptions.httpTokens = "required").']);
      assert.deepEqual(resourceViolations(rules.ec2Imdsv2, 'aws:ec2/launchTemplate:LaunchTemplate', {}), ['Launch template r must require IMDSv2 (metadataOptions.httpTokens = "required").']);
    });
    it('requires encrypted root volumes', () => {
      assert.deepEqual(resourceViolations(rules.ec2EncryptedRoot, 'aws:ec2/instance:Instance', { rootBlockDevice: { encrypted: true } }), []);
      assert.deepEqual(resourceViolations(rules.ec2EncryptedRoot, 'aws:ec2/instance:Instance', { rootBlockDevice: {} }), ['EC2 instance r must encrypt its root volume.']);
      assert.deepEqual(resourceViolations(rules.ec2EncryptedRoot, 'aws:ec2/launchTemplate:LaunchTemplate', { blockDeviceMappings: [{ ebs: { encrypted: 'true' } }] }), []);
      assert.deepEqual(resourceViolations(rules.ec2EncryptedRoot, 'aws:ec2/launchTemplate:LaunchTemplate', { blockDeviceMappings: [{ ebs: { encrypted: 'false' } }] }), ['Launch template r must encrypt its EBS volumes.']);
    });
  });

  it('requires an action on every alarm', () => {
    assert.deepEqual(resourceViolations(rules.alarmsHaveActions, 'aws:cloudwatch/metricAlarm:MetricAlarm', { alarmActions: ['arn:aws:sns:us-east-1:1:t'] }), []);
    assert.deepEqual(resourceViolations(rules.alarmsHaveActions, 'aws:cloudwatch/metricAlarm:MetricAlarm', { alarmActions: [] }), ['CloudWatch alarm r has no alarm action.']);
  });

  it('ignores resources of other types', () => {
    assert.deepEqual(resourceViolations(rules.rdsEncrypted, 'aws:s3/bucket:Bucket', {}), []);
  });
});
