/**
 * The grading stack for one environment: reads the validated stack config and composes the
 * components. Nothing else belongs here.
 */
import * as pulumi from '@pulumi/pulumi';
import { AccessGroups } from './components/accessGroups';
import { Alarms } from './components/alarms';
import { loadStackConfig } from './components/config';
import { Database } from './components/database';
import { EcsGrading } from './components/ecsGrading';
import { Judge0Host } from './components/judge0Host';
import { Messaging } from './components/messaging';
import { Network } from './components/network';
import { Storage } from './components/storage';
import { WebTier, ecrRepositoryArnOf } from './components/webTier';

const cfg = loadStackConfig();
const secrets = new pulumi.Config('grading');
const env = cfg.environmentName;

const network = new Network(`${env}-network`, {
  environmentName: env,
  cidrBlock: cfg.vpcCidr,
  availabilityZoneCount: cfg.availabilityZoneCount,
  natStrategy: cfg.natStrategy,
});

const storage = new Storage(`${env}-storage`, {
  environmentName: env,
  versioning: cfg.enableS3Versioning,
  lifecycle: cfg.enableS3Lifecycle,
  expirationDays: cfg.s3LifecycleExpirationDays,
  noncurrentVersionExpirationDays: cfg.s3NoncurrentVersionExpirationDays,
  kmsKeyArn: cfg.s3KmsKeyArn,
});

const access = new AccessGroups(`${env}-access`, { environmentName: env, vpcId: network.vpcId });
const clients = [access.workerSecurityGroupId, access.webSecurityGroupId];

const messaging = new Messaging(`${env}-mq`, {
  environmentName: env,
  vpcId: network.vpcId,
  vpcCidr: cfg.vpcCidr,
  privateSubnetIds: network.privateSubnetIds,
  clientSecurityGroupIds: clients,
  engineVersion: cfg.mqEngineVersion,
  autoMinorVersionUpgrade: cfg.mqAutoMinorVersionUpgrade,
  instanceType: cfg.mqInstanceType,
  deploymentMode: cfg.mqDeploymentMode,
  adminUsername: cfg.mqAdminUsername,
  adminPassword: secrets.getSecret('mqAdminPassword'),
  auditLogs: cfg.mqEnableAuditLogs,
  maximumRedeliveries: cfg.mqMaximumRedeliveries,
});

const database = new Database(`${env}-db`, {
  environmentName: env,
  vpcId: network.vpcId,
  privateSubnetIds: network.privateSubnetIds,
  clientSecurityGroupIds: clients,
  instanceClass: cfg.dbInstanceClass,
  engineVersion: cfg.dbEngineVersion,
  allocatedStorage: cfg.dbAllocatedStorage,
  maxAllocatedStorage: cfg.dbMaxAllocatedStorage,
  username: cfg.dbUsername,
  password: secrets.getSecret('dbPassword'),
  backupRetentionDays: cfg.dbBackupRetentionDays,
  multiAz: cfg.dbMultiAz,
  production: cfg.isProduction,
  deletionProtection: cfg.deletionProtection,
});

const judge0 = new Judge0Host(`${env}-judge0`, {
  environmentName: env,
  vpcId: network.vpcId,
  vpcCidr: cfg.vpcCidr,
  privateSubnetIds: network.privateSubnetIds,
  workerSecurityGroupId: access.workerSecurityGroupId,
  instanceType: cfg.judge0InstanceType,
  instanceCount: cfg.judge0InstanceCount,
  amiId: cfg.judge0AmiId,
  enableSshAccess: cfg.enableSshAccess,
  sshKeyName: cfg.sshKeyName,
});

const grading = new EcsGrading(`${env}-workers`, {
  environmentName: env,
  privateSubnetIds: network.privateSubnetIds,
  workerSecurityGroupId: access.workerSecurityGroupId,
  brokerSecurityGroupId: messaging.securityGroupId,
  databaseSecurityGroupId: database.securityGroupId,
  // Workers reach Judge0 through its internal load balancer.
  judge0SecurityGroupId: judge0.endpointSecurityGroupId,
  bucketName: storage.bucketName,
  bucketArn: storage.bucketArn,
  brokerName: messaging.brokerName,
  brokerActiveStandby: cfg.mqDeploymentMode === 'ACTIVE_STANDBY_MULTI_AZ',
  parameters: {
    mq: messaging.tierParameterNames.worker,
    db: database.tierParameterNames.worker,
    judge0: { endpoint: judge0.parameterNames.endpoint, authToken: judge0.parameterNames.authToken },
  },
  // The migrate init container creates both tiers' database users as the master user.
  migration: { master: database.parameterNames, gateway: database.tierParameterNames.gateway },
  image: cfg.graderImage,
  cpu: cfg.ecsTaskCpu,
  memory: cfg.ecsTaskMemory,
  desiredCount: cfg.ecsDesiredCount,
  autoscaling: {
    enabled: cfg.enableEcsAutoscaling,
    min: cfg.ecsMinCapacity,
    max: cfg.ecsMaxCapacity,
    cpuTarget: cfg.ecsCpuTargetValue,
    backlogPerTask: cfg.ecsBacklogTargetPerTask,
  },
  concurrency: cfg.workerConcurrency,
  logRetentionDays: cfg.logRetentionDays,
});

const web = new WebTier(`${env}-web`, {
  environmentName: env,
  vpcId: network.vpcId,
  publicSubnetIds: network.publicSubnetIds,
  privateSubnetIds: network.privateSubnetIds,
  webSecurityGroupId: access.webSecurityGroupId,
  brokerSecurityGroupId: messaging.securityGroupId,
  databaseSecurityGroupId: database.securityGroupId,
  bucketName: storage.bucketName,
  bucketArn: storage.bucketArn,
  parameters: { mq: messaging.tierParameterNames.gateway, db: database.tierParameterNames.gateway },
  image: grading.image,
  // The built image's repository, or a prebuilt graderImage's when it lives in ECR.
  repositoryArn: grading.repositoryArn ?? (cfg.graderImage ? ecrRepositoryArnOf(cfg.graderImage) : undefined),
  certificateArn: cfg.certificateArn,
  instanceType: cfg.webInstanceType,
  minSize: cfg.webMinSize,
  maxSize: cfg.webMaxSize,
  desiredCapacity: cfg.webDesiredCapacity,
  cpuTargetValue: cfg.webCpuTargetValue,
  logRetentionDays: cfg.logRetentionDays,
  auth: {
    mode: cfg.authMode,
    issuer: cfg.authIssuer,
    audience: cfg.authAudience,
    jwksUrl: cfg.authJwksUrl,
    rolesClaim: cfg.authRolesClaim,
  },
  webhooks: { url: cfg.webhookUrl, secret: secrets.getSecret('webhookSecret') },
  review: cfg.enableCodeReview
    ? { baseUrl: cfg.reviewBaseUrl, model: cfg.reviewModel, apiKey: secrets.requireSecret('reviewApiKey') }
    : undefined,
});

const alarms = new Alarms(`${env}-alarms`, {
  environmentName: env,
  alarmEmails: cfg.alarmEmails,
  brokerName: messaging.brokerName,
  brokerActiveStandby: cfg.mqDeploymentMode === 'ACTIVE_STANDBY_MULTI_AZ',
  clusterName: grading.clusterName,
  serviceName: grading.serviceName,
  minRunningTasks: cfg.enableEcsAutoscaling ? cfg.ecsMinCapacity : cfg.ecsDesiredCount,
  albArnSuffix: web.albArnSuffix,
  targetGroupArnSuffix: web.targetGroupArnSuffix,
  judge0InstanceIds: judge0.instanceIds,
  databaseIdentifier: database.instanceIdentifier,
  queueBacklogThreshold: cfg.queueBacklogAlarmThreshold,
  latencyP99ThresholdMs: cfg.gradingLatencyAlarmMs,
  storeUsagePercentThreshold: cfg.brokerStoreAlarmPercent,
  runbookBaseUrl: cfg.runbookBaseUrl,
});

// Non-secret outputs only: passwords stay in SSM SecureString parameters.
export const environmentName = env;
export const vpcId = network.vpcId;
export const privateSubnetIds = network.privateSubnetIds;
export const bucketName = storage.bucketName;
export const albLogBucketName = web.accessLogBucketName;
export const brokerName = messaging.brokerName;
export const brokerStompEndpoints = messaging.stompEndpoints;
export const databaseAddress = database.address;
export const parameterNames = {
  mq: messaging.parameterNames,
  mqTiers: messaging.tierParameterNames,
  db: database.parameterNames,
  dbTiers: database.tierParameterNames,
  judge0: judge0.parameterNames,
};
export const judge0Endpoint = judge0.endpoint;
export const workerImage = grading.image;
export const workerCluster = grading.clusterName;
export const url = web.albDnsName.apply((dns) => `${cfg.certificateArn ? 'https' : 'http'}://${dns}`);
export const alarmTopicArn = alarms.topicArn;
export const dashboardName = alarms.dashboardName;
