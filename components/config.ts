/**
 * The stack config (namespace `grading`): one typed object, every key validated up front.
 *
 * `parseStackConfig` is pure (tests call it directly); `loadStackConfig` reads Pulumi config. A bad
 * config throws one StackConfigError listing every bad key, before any resource exists. Secret
 * values never appear in error messages.
 */
import Ajv, { ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';

export type NatStrategy = 'Single' | 'OnePerAz';
export type MqDeploymentMode = 'SINGLE_INSTANCE' | 'ACTIVE_STANDBY_MULTI_AZ';

export interface StackConfig {
  /** Prefix of every resource and SSM path (`/<env>/...`). Default: the stack name. */
  environmentName: string;
  /** Whether production safeguards apply (deletion protection, final snapshots). Default: environmentName === "production". */
  isProduction: boolean;
  vpcCidr: string;
  /** Availability zones for subnets (>= 2: RDS and active/standby brokers need two). Default 2. */
  availabilityZoneCount: number;
  /** One NAT gateway for the VPC (cheap) or one per AZ (survives an AZ outage). Default Single. */
  natStrategy: NatStrategy;

  mqEngineType: 'ActiveMQ';
  /** Amazon MQ ActiveMQ minor version; 5.17 and older are out of support. Default 5.18. */
  mqEngineVersion: string;
  mqAutoMinorVersionUpgrade: boolean;
  mqInstanceType: string;
  mqDeploymentMode: MqDeploymentMode;
  mqAdminUsername: string;
  mqEnableAuditLogs: boolean;
  /** Broker-side redeliveries of a NACKed request before grading-dlq. Default 3. */
  mqMaximumRedeliveries: number;

  dbInstanceClass: string;
  dbEngineVersion: string;
  dbAllocatedStorage: number;
  dbMaxAllocatedStorage: number;
  dbUsername: string;
  dbBackupRetentionDays: number;
  dbMultiAz: boolean;
  /** Default: isProduction. */
  deletionProtection: boolean;

  /** Prebuilt worker image (skips building worker/Dockerfile). */
  graderImage?: string;
  useFargate: boolean;
  ecsDesiredCount: number;
  enableEcsAutoscaling: boolean;
  ecsMinCapacity: number;
  ecsMaxCapacity: number;
  ecsTaskCpu: number;
  ecsTaskMemory: number;
  ecsCpuTargetValue: number;
  /** Target queue backlog (grading-requests messages) per running task for the backlog scaling policy. */
  ecsBacklogTargetPerTask: number;
  /** Gradings one worker task runs at once (its prefetch). */
  workerConcurrency: number;
  enableEcsAlbAccess: boolean;

  enableS3Versioning: boolean;
  enableS3Lifecycle: boolean;
  /** Days after which submissions/ and results/ objects expire (problems/ never expire). */
  s3LifecycleExpirationDays: number;
  s3NoncurrentVersionExpirationDays: number;
  /** Use SSE-KMS with this key instead of SSE-S3 (AES-256). */
  s3KmsKeyArn?: string;

  judge0InstanceType: string;
  judge0InstanceCount: number;
  /** Pinned Judge0 host AMI; default: the current Ubuntu 22.04 image at creation, never followed afterwards. */
  judge0AmiId?: string;
  enableSshAccess: boolean;
  sshKeyName?: string;

  webInstanceType: string;
  webMinSize: number;
  webMaxSize: number;
  webDesiredCapacity: number;
  /** ACM certificate for the ALB's HTTPS listener; required in production; without it the ALB serves HTTP only. */
  certificateArn?: string;

  /** Code review on request through an OpenAI-compatible endpoint; needs the secret reviewApiKey. */
  enableCodeReview: boolean;
  reviewBaseUrl: string;
  reviewModel: string;

  alarmEmails: string[];
  queueBacklogAlarmThreshold: number;
  logRetentionDays: number;
}

/** Secret keys: accepted only as Pulumi secrets, generated when absent. */
export const SECRET_KEYS = ['mqAdminPassword', 'dbPassword'] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];
/** Secrets that cannot be generated (supplied by the operator); their values never reach messages either. */
export const SUPPLIED_SECRET_KEYS = ['reviewApiKey'] as const;
const SENSITIVE_KEYS: readonly string[] = [...SECRET_KEYS, ...SUPPLIED_SECRET_KEYS];

const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

// Fargate's valid cpu -> memory (MiB) combinations.
const FARGATE_MEMORY: Record<number, number[]> = {
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
};

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

const instanceType = (prefix: string) => ({ type: 'string', pattern: `^${prefix}[a-z][a-z0-9-]*\\.[a-z0-9]+$` });

/** Defaults for every optional key; documented in docs/deploy.md. */
export const DEFAULTS = {
  vpcCidr: '10.0.0.0/16',
  availabilityZoneCount: 2,
  natStrategy: 'Single',
  mqEngineType: 'ActiveMQ',
  mqEngineVersion: '5.18',
  mqAutoMinorVersionUpgrade: true,
  mqInstanceType: 'mq.t3.micro',
  mqDeploymentMode: 'SINGLE_INSTANCE',
  mqAdminUsername: 'grading-admin',
  mqEnableAuditLogs: true,
  mqMaximumRedeliveries: 3,
  dbInstanceClass: 'db.t4g.micro',
  dbEngineVersion: '8.4',
  dbAllocatedStorage: 20,
  dbMaxAllocatedStorage: 100,
  dbUsername: 'grading',
  dbBackupRetentionDays: 7,
  dbMultiAz: false,
  useFargate: true,
  ecsDesiredCount: 1,
  enableEcsAutoscaling: true,
  ecsMinCapacity: 1,
  ecsMaxCapacity: 4,
  ecsTaskCpu: 512,
  ecsTaskMemory: 1024,
  ecsCpuTargetValue: 60,
  ecsBacklogTargetPerTask: 5,
  workerConcurrency: 2,
  enableEcsAlbAccess: false,
  enableS3Versioning: true,
  enableS3Lifecycle: true,
  s3LifecycleExpirationDays: 365,
  s3NoncurrentVersionExpirationDays: 30,
  judge0InstanceType: 't3.medium',
  judge0InstanceCount: 1,
  enableSshAccess: false,
  webInstanceType: 't3.small',
  webMinSize: 1,
  webMaxSize: 2,
  webDesiredCapacity: 1,
  enableCodeReview: false,
  reviewBaseUrl: 'https://api.openai.com/v1',
  reviewModel: 'gpt-4o-mini',
  alarmEmails: [] as string[],
  queueBacklogAlarmThreshold: 100,
  logRetentionDays: 30,
} as const;

const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    environmentName: { type: 'string', pattern: '^[a-z][a-z0-9-]{1,20}$' },
    isProduction: { type: 'boolean' },
    vpcCidr: { type: 'string', pattern: '^(\\d{1,3}\\.){3}\\d{1,3}/(1[6-9]|2[0-4])$' },
    availabilityZoneCount: { type: 'integer', minimum: 2, maximum: 3 },
    natStrategy: { enum: ['Single', 'OnePerAz'] },
    mqEngineType: { const: 'ActiveMQ' },
    mqEngineVersion: { type: 'string', pattern: '^5\\.(18|19)$' },
    mqAutoMinorVersionUpgrade: { type: 'boolean' },
    mqInstanceType: instanceType('mq\\.'),
    mqDeploymentMode: { enum: ['SINGLE_INSTANCE', 'ACTIVE_STANDBY_MULTI_AZ'] },
    mqAdminUsername: { type: 'string', pattern: '^[A-Za-z0-9_.~-]{2,100}$' },
    mqEnableAuditLogs: { type: 'boolean' },
    mqMaximumRedeliveries: { type: 'integer', minimum: 0, maximum: 20 },
    dbInstanceClass: instanceType('db\\.'),
    dbEngineVersion: { type: 'string', pattern: '^8\\.(0|4)(\\.\\d+)?$' },
    dbAllocatedStorage: { type: 'integer', minimum: 20, maximum: 65536 },
    dbMaxAllocatedStorage: { type: 'integer', minimum: 20, maximum: 65536 },
    dbUsername: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_]{0,31}$', not: { enum: ['admin', 'root', 'rdsadmin'] } },
    dbBackupRetentionDays: { type: 'integer', minimum: 1, maximum: 35 },
    dbMultiAz: { type: 'boolean' },
    deletionProtection: { type: 'boolean' },
    graderImage: { type: 'string', pattern: '^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[a-f0-9]{64})$' },
    useFargate: { const: true },
    ecsDesiredCount: { type: 'integer', minimum: 0, maximum: 100 },
    enableEcsAutoscaling: { type: 'boolean' },
    ecsMinCapacity: { type: 'integer', minimum: 0, maximum: 100 },
    ecsMaxCapacity: { type: 'integer', minimum: 1, maximum: 100 },
    ecsTaskCpu: { enum: Object.keys(FARGATE_MEMORY).map(Number) },
    ecsTaskMemory: { type: 'integer', minimum: 512, maximum: 122880 },
    ecsCpuTargetValue: { type: 'number', minimum: 10, maximum: 90 },
    ecsBacklogTargetPerTask: { type: 'number', exclusiveMinimum: 0, maximum: 1000 },
    workerConcurrency: { type: 'integer', minimum: 1, maximum: 16 },
    enableEcsAlbAccess: { type: 'boolean' },
    enableS3Versioning: { type: 'boolean' },
    enableS3Lifecycle: { type: 'boolean' },
    s3LifecycleExpirationDays: { type: 'integer', minimum: 1, maximum: 3650 },
    s3NoncurrentVersionExpirationDays: { type: 'integer', minimum: 1, maximum: 3650 },
    s3KmsKeyArn: { type: 'string', pattern: '^arn:aws[a-z-]*:kms:[a-z0-9-]+:\\d{12}:(key|alias)/.+$' },
    judge0InstanceType: instanceType(''),
    judge0InstanceCount: { type: 'integer', minimum: 1, maximum: 10 },
    judge0AmiId: { type: 'string', pattern: '^ami-[0-9a-f]{8}([0-9a-f]{9})?$' },
    enableSshAccess: { type: 'boolean' },
    sshKeyName: { type: 'string', minLength: 1, maxLength: 255 },
    webInstanceType: instanceType(''),
    webMinSize: { type: 'integer', minimum: 0, maximum: 50 },
    webMaxSize: { type: 'integer', minimum: 1, maximum: 50 },
    webDesiredCapacity: { type: 'integer', minimum: 0, maximum: 50 },
    certificateArn: { type: 'string', pattern: '^arn:aws[a-z-]*:acm:[a-z0-9-]+:\\d{12}:certificate/[A-Za-z0-9-]+$' },
    enableCodeReview: { type: 'boolean' },
    reviewBaseUrl: { type: 'string', pattern: '^https://[^\\s/]+(/[^\\s]*)?$' },
    reviewModel: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$' },
    alarmEmails: { type: 'array', items: { type: 'string', format: 'email' }, uniqueItems: true, maxItems: 20 },
    queueBacklogAlarmThreshold: { type: 'integer', minimum: 1 },
    logRetentionDays: { enum: LOG_RETENTION_DAYS },
    // Secrets: validated for shape only; their values never reach an error message.
    mqAdminPassword: { type: 'string', minLength: 12, maxLength: 250, pattern: '^[^,:=\\s]+$' },
    dbPassword: { type: 'string', minLength: 8, maxLength: 41, pattern: '^[^/"@\\s]+$' },
    reviewApiKey: { type: 'string', minLength: 8, maxLength: 500, pattern: '^\\S+$' },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
addFormats(ajv);
const validateSchema = ajv.compile(SCHEMA);

export class StackConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid stack config (namespace "grading"), ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'StackConfigError';
  }
}

/**
 * Validates raw config values (strings as Pulumi stores them, or already-typed values) and applies
 * defaults. `stackName` is the default environmentName.
 */
export function parseStackConfig(raw: Record<string, unknown>, stackName: string): StackConfig {
  const input: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) input[key] = coerce(key, value);
  const problems: string[] = [];
  if (!validateSchema(input)) problems.push(...(validateSchema.errors ?? []).map(describeError));

  const environmentName = (input.environmentName as string | undefined) ?? stackName;
  const merged = { ...DEFAULTS, ...input, environmentName } as Record<string, unknown>;
  const isProduction = (input.isProduction as boolean | undefined) ?? environmentName === 'production';
  const cfg = {
    ...merged,
    isProduction,
    deletionProtection: (input.deletionProtection as boolean | undefined) ?? isProduction,
  } as unknown as StackConfig & Record<SecretKey, unknown>;
  delete (cfg as Record<string, unknown>).mqAdminPassword;
  delete (cfg as Record<string, unknown>).dbPassword;
  delete (cfg as Record<string, unknown>).reviewApiKey;

  if (problems.length === 0) problems.push(...crossFieldProblems(cfg, 'environmentName' in input, 'reviewApiKey' in input));
  if (problems.length) throw new StackConfigError(problems);
  return cfg;
}

function crossFieldProblems(cfg: StackConfig, environmentGiven: boolean, reviewKeyGiven: boolean): string[] {
  const problems: string[] = [];
  if (!environmentGiven && !/^[a-z][a-z0-9-]{1,20}$/.test(cfg.environmentName)) {
    problems.push(`environmentName: the stack name "${cfg.environmentName}" is not a valid environment name; set grading:environmentName (lowercase letters, digits, dashes)`);
  }
  if (cfg.ecsMinCapacity > cfg.ecsMaxCapacity) problems.push(`ecsMinCapacity (${cfg.ecsMinCapacity}) must be <= ecsMaxCapacity (${cfg.ecsMaxCapacity})`);
  if (cfg.enableEcsAutoscaling && (cfg.ecsDesiredCount < cfg.ecsMinCapacity || cfg.ecsDesiredCount > cfg.ecsMaxCapacity)) {
    problems.push(`ecsDesiredCount (${cfg.ecsDesiredCount}) must lie within ecsMinCapacity..ecsMaxCapacity (${cfg.ecsMinCapacity}..${cfg.ecsMaxCapacity})`);
  }
  const memory = FARGATE_MEMORY[cfg.ecsTaskCpu];
  if (memory && !memory.includes(cfg.ecsTaskMemory)) {
    problems.push(`ecsTaskMemory (${cfg.ecsTaskMemory}) is not valid for ecsTaskCpu ${cfg.ecsTaskCpu} on Fargate; use one of ${memory[0]}..${memory[memory.length - 1]} (step ${memory[1] - memory[0]})`);
  }
  if (cfg.webMinSize > cfg.webMaxSize) problems.push(`webMinSize (${cfg.webMinSize}) must be <= webMaxSize (${cfg.webMaxSize})`);
  if (cfg.webDesiredCapacity < cfg.webMinSize || cfg.webDesiredCapacity > cfg.webMaxSize) {
    problems.push(`webDesiredCapacity (${cfg.webDesiredCapacity}) must lie within webMinSize..webMaxSize (${cfg.webMinSize}..${cfg.webMaxSize})`);
  }
  if (cfg.dbMaxAllocatedStorage < cfg.dbAllocatedStorage) {
    problems.push(`dbMaxAllocatedStorage (${cfg.dbMaxAllocatedStorage}) must be >= dbAllocatedStorage (${cfg.dbAllocatedStorage})`);
  }
  if (cfg.mqDeploymentMode === 'ACTIVE_STANDBY_MULTI_AZ' && cfg.mqInstanceType === 'mq.t3.micro') {
    problems.push('mqInstanceType mq.t3.micro supports SINGLE_INSTANCE only; use mq.m5.large or larger for ACTIVE_STANDBY_MULTI_AZ');
  }
  if (!cfg.mqAutoMinorVersionUpgrade) {
    const version = cfg.mqEngineVersion;
    problems.push(`mqAutoMinorVersionUpgrade: Amazon MQ requires true for ActiveMQ ${version} (5.18 and later upgrade minor versions automatically)`);
  }
  if (cfg.isProduction && !cfg.certificateArn) {
    const why = 'the public ALB serves HTTPS only (HTTP redirects to it); set an ACM certificate ARN';
    problems.push(`certificateArn is required in production: ${why}`);
  }
  if (cfg.enableSshAccess && !cfg.sshKeyName) problems.push('sshKeyName is required when enableSshAccess is true');
  if (cfg.enableCodeReview && !reviewKeyGiven) {
    problems.push('reviewApiKey is required when enableCodeReview is true (set it as a secret: pulumi config set --secret grading:reviewApiKey ...)');
  }
  return problems;
}

/** Pulumi hands config values over as strings; structured values arrive as JSON text. */
function coerce(key: string, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const prop = (SCHEMA.properties as unknown as Record<string, { type?: string; enum?: readonly unknown[] }>)[key];
  if (!prop) return value;
  const wantsNumber = prop.type === 'integer' || prop.type === 'number' || (prop.enum && typeof prop.enum[0] === 'number');
  if (wantsNumber && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  if (prop.type === 'boolean' || key === 'useFargate') {
    if (value === 'true') return true;
    if (value === 'false') return false;
  }
  if (prop.type === 'array' && value.trim().startsWith('[')) {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  return value;
}

const KNOWN_KEYS = new Set(Object.keys(SCHEMA.properties));

function describeError(error: ErrorObject): string {
  const key = error.instancePath.split('/')[1] ?? '';
  const secret = SENSITIVE_KEYS.includes(key);
  switch (error.keyword) {
    case 'additionalProperties': {
      const unknown = String((error.params as { additionalProperty: string }).additionalProperty);
      return `${unknown}: unknown key (typo?); known keys: ${[...KNOWN_KEYS].sort().join(', ')}`;
    }
    case 'enum':
      return `${key}: must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
    case 'const':
      return key === 'useFargate'
        ? 'useFargate: only true is supported (the worker runs on ECS Fargate)'
        : `${key}: must be ${(error.params as { allowedValue: unknown }).allowedValue}`;
    case 'pattern':
      return `${key}: ${secret ? 'has a character or form that is not allowed' : `"${error.data as string}" has the wrong form`} (${PATTERN_HINTS[key] ?? `must match ${(error.params as { pattern: string }).pattern}`})`;
    case 'format':
      return `${error.instancePath.slice(1).replace('/', '[') + (error.instancePath.split('/').length > 2 ? ']' : '')}: "${error.data as string}" is not a valid ${(error.params as { format: string }).format}`;
    case 'not':
      return `${key}: "${error.data as string}" is reserved by the engine`;
    default:
      return `${key || '(root)'}: ${error.message}${secret ? '' : `${error.data !== undefined && typeof error.data !== 'object' ? ` (got ${JSON.stringify(error.data)})` : ''}`}`;
  }
}

const PATTERN_HINTS: Record<string, string> = {
  environmentName: 'lowercase letters, digits and dashes, 2-21 characters, starting with a letter',
  mqEngineVersion: 'a supported Amazon MQ ActiveMQ version: 5.18 or 5.19 (5.17 and older are out of support)',
  mqInstanceType: 'an Amazon MQ instance type such as mq.m5.large',
  dbInstanceClass: 'an RDS instance class such as db.t4g.micro',
  judge0InstanceType: 'an EC2 instance type such as t3.medium',
  webInstanceType: 'an EC2 instance type such as t3.small',
  vpcCidr: 'an IPv4 CIDR with a /16../24 mask',
  mqAdminPassword: 'Amazon MQ passwords cannot contain commas, colons, equals signs or whitespace',
  dbPassword: 'RDS MySQL passwords cannot contain /, ", @ or whitespace',
  judge0AmiId: 'an AMI id such as ami-0123456789abcdef0',
  graderImage: 'a full image reference with a tag or digest, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/grader:1.2.3',
  certificateArn: 'an ACM certificate ARN',
  s3KmsKeyArn: 'a KMS key or alias ARN',
  dbUsername: 'a letter then letters, digits or underscores, at most 32 characters',
  mqAdminUsername: 'letters, digits and _ . ~ -, 2-100 characters',
  reviewBaseUrl: 'an https URL of an OpenAI-compatible API, e.g. https://api.openai.com/v1',
  reviewModel: 'a model name such as gpt-4o-mini',
  reviewApiKey: 'an API key without whitespace',
};

/** Reads the `grading:` namespace of the running Pulumi program and validates it. */
export function loadStackConfig(): StackConfig {
  // Imported lazily so the pure parser above can be used without the Pulumi runtime.
  const pulumi = require('@pulumi/pulumi') as typeof import('@pulumi/pulumi');
  const all = pulumi.runtime.allConfig();
  const raw: Record<string, unknown> = {};
  for (const [fullKey, value] of Object.entries(all)) {
    const [namespace, key] = fullKey.split(':');
    if (namespace === 'grading' && key) raw[key] = value;
  }
  return parseStackConfig(raw, pulumi.getStack());
}
