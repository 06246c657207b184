/**
 * Component settings as the program derives them from a stack that sets nothing (index.ts does the
 * same mapping): tests build components from these and compare properties with DEFAULTS, so a
 * default is written once, in components/config.ts.
 */
import { parseStackConfig } from '../../components/config';

export const defaultConfig = parseStackConfig({}, 'staging');
const cfg = defaultConfig;

export const networkDefaults = {
  cidrBlock: cfg.vpcCidr,
  availabilityZoneCount: cfg.availabilityZoneCount,
  natStrategy: cfg.natStrategy,
};

export const storageDefaults = {
  versioning: cfg.enableS3Versioning,
  lifecycle: cfg.enableS3Lifecycle,
  expirationDays: cfg.s3LifecycleExpirationDays,
  noncurrentVersionExpirationDays: cfg.s3NoncurrentVersionExpirationDays,
};

export const messagingDefaults = {
  engineVersion: cfg.mqEngineVersion,
  autoMinorVersionUpgrade: cfg.mqAutoMinorVersionUpgrade,
  instanceType: cfg.mqInstanceType,
  deploymentMode: cfg.mqDeploymentMode,
  adminUsername: cfg.mqAdminUsername,
  auditLogs: cfg.mqEnableAuditLogs,
  maximumRedeliveries: cfg.mqMaximumRedeliveries,
};

export const databaseDefaults = {
  instanceClass: cfg.dbInstanceClass,
  engineVersion: cfg.dbEngineVersion,
  allocatedStorage: cfg.dbAllocatedStorage,
  maxAllocatedStorage: cfg.dbMaxAllocatedStorage,
  username: cfg.dbUsername,
  backupRetentionDays: cfg.dbBackupRetentionDays,
  multiAz: cfg.dbMultiAz,
  production: cfg.isProduction,
  deletionProtection: cfg.deletionProtection,
};

export const judge0Defaults = {
  instanceType: cfg.judge0InstanceType,
  instanceCount: cfg.judge0InstanceCount,
  enableSshAccess: cfg.enableSshAccess,
};

export const ecsGradingDefaults = {
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
};

export const webTierDefaults = {
  instanceType: cfg.webInstanceType,
  minSize: cfg.webMinSize,
  maxSize: cfg.webMaxSize,
  desiredCapacity: cfg.webDesiredCapacity,
  cpuTargetValue: cfg.webCpuTargetValue,
  logRetentionDays: cfg.logRetentionDays,
};

export const alarmsDefaults = {
  queueBacklogThreshold: cfg.queueBacklogAlarmThreshold,
  latencyP99ThresholdMs: cfg.gradingLatencyAlarmMs,
  storeUsagePercentThreshold: cfg.brokerStoreAlarmPercent,
  runbookBaseUrl: cfg.runbookBaseUrl,
};
