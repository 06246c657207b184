/**
 * The grading stack for one environment: reads the validated stack config and composes the
 * components. Nothing else belongs here.
 */
import * as pulumi from '@pulumi/pulumi';
import { AccessGroups } from './components/accessGroups';
import { loadStackConfig } from './components/config';
import { Database } from './components/database';
import { Messaging } from './components/messaging';
import { Network } from './components/network';
import { Storage } from './components/storage';

const cfg = loadStackConfig();
const secrets = new pulumi.Config('grading');
const env = cfg.environmentName;

const network = new Network(env, {
  environmentName: env,
  cidrBlock: cfg.vpcCidr,
  availabilityZoneCount: cfg.availabilityZoneCount,
  natStrategy: cfg.natStrategy,
});

const storage = new Storage(env, {
  environmentName: env,
  versioning: cfg.enableS3Versioning,
  lifecycle: cfg.enableS3Lifecycle,
  expirationDays: cfg.s3LifecycleExpirationDays,
  noncurrentVersionExpirationDays: cfg.s3NoncurrentVersionExpirationDays,
  kmsKeyArn: cfg.s3KmsKeyArn,
});

const access = new AccessGroups(env, { environmentName: env, vpcId: network.vpcId });
const clients = [access.workerSecurityGroupId, access.webSecurityGroupId];

const messaging = new Messaging(env, {
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

const database = new Database(env, {
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

// Non-secret outputs only: passwords stay in SSM SecureString parameters.
export const environmentName = env;
export const vpcId = network.vpcId;
export const privateSubnetIds = network.privateSubnetIds;
export const bucketName = storage.bucketName;
export const brokerName = messaging.brokerName;
export const brokerStompEndpoints = messaging.stompEndpoints;
export const databaseAddress = database.address;
export const parameterNames = { mq: messaging.parameterNames, db: database.parameterNames };
