/**
 * The stack config (namespace `grading`): one typed object, every key validated up front.
 *
 * `parseStackConfig` is pure (tests call it directly); `loadStackConfig` reads Pulumi config. A bad
 * config throws one StackConfigError listing every bad key, before any resource exists. Secret
 * values never appear in error messages.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import * as YAML from 'yaml';
import {
  EC2_INSTANCE_TYPES,
  explainUnknownType,
  isGraviton,
  MQ_ACTIVEMQ_INSTANCE_TYPES,
  MQ_SINGLE_INSTANCE_ONLY,
  RDS_INSTANCE_CLASSES,
} from './instanceTypes';
import { didYouMean, editDistance } from './suggest';

export type NatStrategy = 'Single' | 'OnePerAz';
export type MqDeploymentMode = 'SINGLE_INSTANCE' | 'ACTIVE_STANDBY_MULTI_AZ';
export type AuthMode = 'oidc' | 'hmac' | 'none';

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
  /** Average CPU percent the gateway group's target tracking aims for. Default 60. */
  webCpuTargetValue: number;
  /** ACM certificate for the ALB's HTTPS listener; required in production; without it the ALB serves HTTP only. */
  certificateArn?: string;

  /**
   * Site-wide callback URL the gateway POSTs every final result to, signed with the webhook secret
   * (SSM /<env>/web/webhook-secret; the secret webhookSecret, else generated). Requests may also name their own.
   */
  webhookUrl?: string;

  /** Code review on request through an OpenAI-compatible endpoint; needs the secret reviewApiKey. */
  enableCodeReview: boolean;
  reviewBaseUrl: string;
  reviewModel: string;

  /**
   * How the gateway authenticates callers: oidc (JWTs from an identity provider, checked against
   * authJwksUrl), hmac (HS256 tokens a site's back end mints with the generated secret in SSM
   * /<env>/web/auth-hmac-secret) or none (local development only; refused in production).
   */
  authMode: AuthMode;
  /** The tokens' `iss`; required with oidc and hmac. */
  authIssuer?: string;
  /** The tokens' `aud` naming this gateway; required with oidc and hmac. */
  authAudience?: string;
  /** https URL of the identity provider's JWKS; required with oidc. */
  authJwksUrl?: string;
  /** Claim holding the caller's roles (a dotted path reaches into objects); the gateway's default is `roles`. */
  authRolesClaim?: string;

  alarmEmails: string[];
  queueBacklogAlarmThreshold: number;
  /** p99 grading time (ms, over 5 minutes) that pages on-call. Default 60000. */
  gradingLatencyAlarmMs: number;
  /** Broker persistent store usage (percent) that pages on-call. Default 80. */
  brokerStoreAlarmPercent: number;
  /** Where alarm descriptions link their runbook section; default: the repository path docs/runbook.md. */
  runbookBaseUrl: string;
  logRetentionDays: number;
}

/** Secret keys: accepted only as Pulumi secrets, generated when absent. */
export const SECRET_KEYS = ['mqAdminPassword', 'dbPassword', 'webhookSecret'] as const;
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
  ecsDesiredCount: 1,
  enableEcsAutoscaling: true,
  ecsMinCapacity: 1,
  ecsMaxCapacity: 4,
  ecsTaskCpu: 512,
  ecsTaskMemory: 1024,
  ecsCpuTargetValue: 60,
  ecsBacklogTargetPerTask: 5,
  workerConcurrency: 2,
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
  webCpuTargetValue: 60,
  enableCodeReview: false,
  reviewBaseUrl: 'https://api.openai.com/v1',
  reviewModel: 'gpt-4o-mini',
  authMode: 'hmac' as AuthMode,
  alarmEmails: [] as string[],
  queueBacklogAlarmThreshold: 100,
  gradingLatencyAlarmMs: 60_000,
  brokerStoreAlarmPercent: 80,
  // A path in this repository; a stack may set an https URL on.
  runbookBaseUrl: 'docs/runbook.md',
  logRetentionDays: 30,
} as const;

/**
 * With authMode hmac the site's back end and the gateway only need to agree on `iss` and `aud`
 * (the secret is the stack's own): these apply when the stack sets none. oidc has no defaults.
 */
export const AUTH_HMAC_DEFAULTS = { authIssuer: 'grading-site', authAudience: 'grading-gateway' } as const;

const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    environmentName: { type: 'string', pattern: '^[a-z][a-z0-9-]{1,20}$' },
    isProduction: { type: 'boolean' },
    vpcCidr: { type: 'string', pattern: '^(\\d{1,3}\\.){3}\\d{1,3}/(1[6-9]|2[0-4])$' },
    availabilityZoneCount: { type: 'integer', minimum: 2, maximum: 3 },
    natStrategy: { enum: ['Single', 'OnePerAz'] },
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
    ecsDesiredCount: { type: 'integer', minimum: 0, maximum: 100 },
    enableEcsAutoscaling: { type: 'boolean' },
    ecsMinCapacity: { type: 'integer', minimum: 0, maximum: 100 },
    ecsMaxCapacity: { type: 'integer', minimum: 1, maximum: 100 },
    ecsTaskCpu: { enum: Object.keys(FARGATE_MEMORY).map(Number) },
    ecsTaskMemory: { type: 'integer', minimum: 512, maximum: 122880 },
    ecsCpuTargetValue: { type: 'number', minimum: 10, maximum: 90 },
    ecsBacklogTargetPerTask: { type: 'number', exclusiveMinimum: 0, maximum: 1000 },
    workerConcurrency: { type: 'integer', minimum: 1, maximum: 16 },
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
    webCpuTargetValue: { type: 'number', minimum: 10, maximum: 90 },
    webhookUrl: { type: 'string', maxLength: 2048, pattern: '^https://[^\\s/@#]+(/[^\\s#]*)?$' },
    certificateArn: { type: 'string', pattern: '^arn:aws[a-z-]*:acm:[a-z0-9-]+:\\d{12}:certificate/[A-Za-z0-9-]+$' },
    enableCodeReview: { type: 'boolean' },
    reviewBaseUrl: { type: 'string', pattern: '^https://[^\\s/]+(/[^\\s]*)?$' },
    reviewModel: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$' },
    authMode: { enum: ['oidc', 'hmac', 'none'] },
    authIssuer: { type: 'string', pattern: '^\\S{1,500}$' },
    authAudience: { type: 'string', pattern: '^\\S{1,500}$' },
    authJwksUrl: { type: 'string', pattern: '^https://[^\\s/]+(/[^\\s]*)?$' },
    authRolesClaim: { type: 'string', pattern: '^[A-Za-z0-9_:/.-]{1,200}$' },
    alarmEmails: { type: 'array', items: { type: 'string', format: 'email' }, uniqueItems: true, maxItems: 20 },
    queueBacklogAlarmThreshold: { type: 'integer', minimum: 1 },
    gradingLatencyAlarmMs: { type: 'integer', minimum: 1000, maximum: 3_600_000 },
    brokerStoreAlarmPercent: { type: 'integer', minimum: 1, maximum: 99 },
    runbookBaseUrl: { type: 'string', pattern: '^https://[^\\s#]+$' },
    logRetentionDays: { enum: LOG_RETENTION_DAYS },
    // Secrets: validated for shape only; their values never reach an error message.
    mqAdminPassword: { type: 'string', minLength: 12, maxLength: 250, pattern: '^[^,:=\\s]+$' },
    dbPassword: { type: 'string', minLength: 8, maxLength: 41, pattern: '^[^/"@\\s]+$' },
    webhookSecret: { type: 'string', minLength: 32, maxLength: 1024, pattern: '^\\S+$' },
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

/** What else the caller knows about the raw values. */
export interface ParseOptions {
  /** Keys (without namespace) that Pulumi holds as secrets (`pulumi config set --secret`). */
  secretKeys?: Iterable<string>;
  /** The text written in the stack file per key, where it differs from the value (YAML numbers such as 8.0). */
  written?: Record<string, string>;
  /** Problems found outside the namespace (misplaced keys), reported with the rest. */
  extraProblems?: string[];
}

/**
 * Validates raw config values (strings as Pulumi stores them, or already-typed values) and applies
 * defaults. `stackName` is the default environmentName. Every problem is reported in one round:
 * schema, instance type catalogs, secrets and the checks across keys (those run on every key that
 * is valid on its own).
 */
export function parseStackConfig(raw: Record<string, unknown>, stackName: string, opts: ParseOptions = {}): StackConfig {
  const problems: string[] = [...(opts.extraProblems ?? [])];
  const badKeys = new Set<string>();
  const secretKeys = new Set(opts.secretKeys ?? []);
  const input: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (isSecureEnvelope(value)) {
      // `grading:key: {secure: v1:...}` read straight from a stack file: Pulumi ciphertext, a secret by definition.
      secretKeys.add(key);
      if (SENSITIVE_KEYS.includes(key)) input[key] = SECRET_PLACEHOLDER[key as keyof typeof SECRET_PLACEHOLDER] ?? value;
      else input[key] = value;
      continue;
    }
    const unquoted = unquotedNumberProblem(key, value, opts.written?.[key]);
    if (unquoted) {
      problems.push(unquoted);
      badKeys.add(key);
    } else input[key] = coerce(key, value);
  }
  if (!validateSchema(input)) {
    for (const error of validateSchema.errors ?? []) {
      problems.push(describeError(error));
      badKeys.add(error.instancePath.split('/')[1] || String((error.params as { additionalProperty?: string }).additionalProperty ?? ''));
    }
  }
  for (const [key, problem] of catalogProblems(input, badKeys)) {
    problems.push(problem);
    badKeys.add(key);
  }
  problems.push(...plainSecretProblems(raw, secretKeys));

  const valid = Object.fromEntries(Object.entries(input).filter(([key]) => !badKeys.has(key)));
  const environmentName = (valid.environmentName as string | undefined) ?? stackName;
  const merged = { ...DEFAULTS, ...valid, environmentName } as Record<string, unknown>;
  const isProduction = (valid.isProduction as boolean | undefined) ?? environmentName === 'production';
  const cfg = {
    ...merged,
    isProduction,
    deletionProtection: (valid.deletionProtection as boolean | undefined) ?? isProduction,
    ...(merged.authMode === 'hmac' ? { ...AUTH_HMAC_DEFAULTS, ...pick(valid, ['authIssuer', 'authAudience']) } : {}),
  } as unknown as StackConfig & Record<SecretKey, unknown>;
  delete (cfg as Record<string, unknown>).mqAdminPassword;
  delete (cfg as Record<string, unknown>).dbPassword;
  delete (cfg as Record<string, unknown>).webhookSecret;
  delete (cfg as Record<string, unknown>).reviewApiKey;

  const context = { environmentGiven: 'environmentName' in input, reviewKeyGiven: 'reviewApiKey' in input, badKeys };
  problems.push(...crossFieldProblems(cfg, context));
  if (problems.length) throw new StackConfigError(problems);
  return cfg;
}

/**
 * Checks across keys. Each names the keys it reads and is skipped when one of them is already
 * reported (its value would be a default, not what the user wrote).
 */
function crossFieldProblems(cfg: StackConfig, ctx: { environmentGiven: boolean; reviewKeyGiven: boolean; badKeys: Set<string> }): string[] {
  const problems: string[] = [];
  const check = (keys: Array<keyof StackConfig | 'reviewApiKey'>, problem: () => string | undefined) => {
    if (keys.some((key) => ctx.badKeys.has(key))) return;
    const found = problem();
    if (found) problems.push(found);
  };
  check(['environmentName'], () => {
    if (ctx.environmentGiven || /^[a-z][a-z0-9-]{1,20}$/.test(cfg.environmentName)) return undefined;
    return (
      `environmentName: the stack name "${cfg.environmentName}" is not a valid environment name; ` +
      'set grading:environmentName (lowercase letters, digits, dashes)'
    );
  });
  check(['ecsMinCapacity', 'ecsMaxCapacity'], () => {
    if (cfg.ecsMinCapacity <= cfg.ecsMaxCapacity) return undefined;
    return (
      `ecsMinCapacity (${cfg.ecsMinCapacity}) must be <= ecsMaxCapacity (${cfg.ecsMaxCapacity}); ` +
      'lower ecsMinCapacity or raise ecsMaxCapacity'
    );
  });
  check(['enableEcsAutoscaling', 'ecsDesiredCount', 'ecsMinCapacity', 'ecsMaxCapacity'], () => {
    if (!cfg.enableEcsAutoscaling || (cfg.ecsDesiredCount >= cfg.ecsMinCapacity && cfg.ecsDesiredCount <= cfg.ecsMaxCapacity))
      return undefined;
    const range = `${cfg.ecsMinCapacity}..${cfg.ecsMaxCapacity}`;
    return `ecsDesiredCount (${cfg.ecsDesiredCount}) must lie within ecsMinCapacity..ecsMaxCapacity (${range})`;
  });
  check(['ecsTaskCpu', 'ecsTaskMemory'], () => {
    const memory = FARGATE_MEMORY[cfg.ecsTaskCpu];
    if (!memory || memory.includes(cfg.ecsTaskMemory)) return undefined;
    return (
      `ecsTaskMemory (${cfg.ecsTaskMemory}) is not valid for ecsTaskCpu ${cfg.ecsTaskCpu} on Fargate; ` +
      `use one of ${memory[0]}..${memory[memory.length - 1]} (step ${memory[1] - memory[0]})`
    );
  });
  check(['webMinSize', 'webMaxSize'], () =>
    cfg.webMinSize > cfg.webMaxSize ? `webMinSize (${cfg.webMinSize}) must be <= webMaxSize (${cfg.webMaxSize})` : undefined,
  );
  check(['webDesiredCapacity', 'webMinSize', 'webMaxSize'], () => {
    if (cfg.webDesiredCapacity >= cfg.webMinSize && cfg.webDesiredCapacity <= cfg.webMaxSize) return undefined;
    return `webDesiredCapacity (${cfg.webDesiredCapacity}) must lie within webMinSize..webMaxSize (${cfg.webMinSize}..${cfg.webMaxSize})`;
  });
  check(['dbAllocatedStorage', 'dbMaxAllocatedStorage'], () => {
    if (cfg.dbMaxAllocatedStorage >= cfg.dbAllocatedStorage) return undefined;
    return `dbMaxAllocatedStorage (${cfg.dbMaxAllocatedStorage}) must be >= dbAllocatedStorage (${cfg.dbAllocatedStorage})`;
  });
  check(['mqDeploymentMode', 'mqInstanceType'], () => {
    if (cfg.mqDeploymentMode !== 'ACTIVE_STANDBY_MULTI_AZ' || !MQ_SINGLE_INSTANCE_ONLY.has(cfg.mqInstanceType)) return undefined;
    return `mqInstanceType ${cfg.mqInstanceType} supports SINGLE_INSTANCE only; use mq.m5.large or larger for ACTIVE_STANDBY_MULTI_AZ`;
  });
  for (const key of ['judge0InstanceType', 'webInstanceType'] as const) {
    check([key], () => {
      if (!isGraviton(cfg[key])) return undefined;
      const runs = key === 'judge0InstanceType' ? 'Judge0 host' : 'gateway';
      return (
        `${key}: ${cfg[key]} is an arm64 (Graviton) type but the ${runs} runs an x86_64 image; ` +
        `pick an x86 type such as ${DEFAULTS[key]}`
      );
    });
  }
  check(['mqAutoMinorVersionUpgrade', 'mqEngineVersion'], () => {
    if (cfg.mqAutoMinorVersionUpgrade) return undefined;
    return (
      `mqAutoMinorVersionUpgrade: Amazon MQ requires true for ActiveMQ ${cfg.mqEngineVersion} ` +
      '(5.18 and later upgrade minor versions automatically)'
    );
  });
  check(['certificateArn', 'environmentName', 'isProduction'], () => {
    if (!cfg.isProduction || cfg.certificateArn) return undefined;
    return 'certificateArn is required in production: the public ALB serves HTTPS only (HTTP redirects to it); set an ACM certificate ARN';
  });
  check(['authMode', 'environmentName', 'isProduction'], () => {
    if (!cfg.isProduction || cfg.authMode !== 'none') return undefined;
    return 'authMode none is refused in production: anyone could submit and read as anyone; use oidc or hmac';
  });
  check(['authMode', 'authIssuer', 'authAudience', 'authJwksUrl'], () => {
    if (cfg.authMode === 'none') return undefined;
    const missing = [
      cfg.authIssuer ? undefined : "authIssuer (the tokens' iss)",
      cfg.authAudience ? undefined : "authAudience (the tokens' aud naming this gateway)",
      cfg.authMode === 'oidc' && !cfg.authJwksUrl ? "authJwksUrl (https URL of the identity provider's JWKS)" : undefined,
    ].filter(Boolean);
    return missing.length ? `authMode ${cfg.authMode} requires ${missing.join(', ')}` : undefined;
  });
  check(['enableSshAccess', 'sshKeyName'], () =>
    cfg.enableSshAccess && !cfg.sshKeyName
      ? 'sshKeyName is required when enableSshAccess is true (the name of an EC2 key pair)'
      : undefined,
  );
  check(['enableCodeReview', 'reviewApiKey'], () => {
    if (!cfg.enableCodeReview || ctx.reviewKeyGiven) return undefined;
    return (
      'reviewApiKey is required when enableCodeReview is true ' +
      '(set it as a secret: pulumi config set --secret grading:reviewApiKey ...)'
    );
  });
  check(['alarmEmails', 'environmentName', 'isProduction'], () => {
    if (!cfg.isProduction || cfg.alarmEmails.length > 0) return undefined;
    return (
      'alarmEmails: production needs at least one alarm recipient, or no one is paged; ' +
      "add one: pulumi config set --path 'grading:alarmEmails[0]' oncall@example.com"
    );
  });
  return problems;
}

function pick(from: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => k in from).map((k) => [k, from[k]]));
}

/** A value as a stack file stores a secret: `{secure: <ciphertext>}`. */
function isSecureEnvelope(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { secure?: unknown }).secure === 'string';
}

/** Stand-ins of a valid shape for encrypted secrets, whose shape cannot be checked before Pulumi decrypts them. */
const SECRET_PLACEHOLDER = {
  mqAdminPassword: 'encrypted-placeholder',
  dbPassword: 'encrypted-placeholder',
  webhookSecret: 'encrypted-placeholder-of-32-characters',
  reviewApiKey: 'encrypted-placeholder',
};

/** Secrets must be stored encrypted by Pulumi; a plain value sits readable in Pulumi.<stack>.yaml. */
function plainSecretProblems(raw: Record<string, unknown>, secretKeys: Set<string>): string[] {
  return Object.keys(raw)
    .filter((key) => (SENSITIVE_KEYS.includes(key) || looksSecret(key)) && !secretKeys.has(key))
    .map(
      (key) =>
        `${key}: stored in plain text; it must be a Pulumi secret. ` +
        `Remove it from the stack file and run: pulumi config set --secret grading:${key} <value>`,
    );
}

/** Names that say they hold a secret, even when the key itself is unknown. */
function looksSecret(key: string): boolean {
  return /(password|passwd|secret|token|api-?key|private-?key|credential)/i.test(key);
}

/** Keys whose schema wants a string. */
function wantsString(key: string): boolean {
  const prop = (SCHEMA.properties as unknown as Record<string, { type?: string }>)[key];
  return prop?.type === 'string';
}

/**
 * YAML reads an unquoted `8.0` as the number 8; Pulumi then hands the program "8". Reported as
 * written (when the stack file is known) with the fix: quote it.
 */
function unquotedNumberProblem(key: string, value: unknown, written: string | undefined): string | undefined {
  if (!wantsString(key) || SENSITIVE_KEYS.includes(key)) return undefined;
  let number: number | undefined;
  if (typeof value === 'number') {
    // 5.18 survives as "5.18"; only a whole number lost its ".0" (or was never a version).
    if (!Number.isInteger(value) && (written === undefined || written === String(value))) return undefined;
    number = value;
  } else if (
    typeof value === 'string' &&
    written !== undefined &&
    written !== value &&
    /^-?\d+(\.\d+)?$/.test(written) &&
    Number(written) === Number(value)
  ) {
    number = Number(value);
  }
  if (number === undefined) return undefined;
  const asWritten = written !== undefined && Number(written) === number ? written : `${number}.0`;
  return (
    `${key}: ${asWritten} is written without quotes, so YAML reads it as the number ${number} and the stack gets "${number}"; ` +
    `quote it in the stack file: grading:${key}: "${asWritten}"`
  );
}

/** Instance types that have the right shape but do not exist. */
function catalogProblems(input: Record<string, unknown>, badKeys: Set<string>): Array<[string, string]> {
  const catalogs: Array<[string, ReadonlySet<string>, string]> = [
    ['judge0InstanceType', EC2_INSTANCE_TYPES, 'EC2 instance type'],
    ['webInstanceType', EC2_INSTANCE_TYPES, 'EC2 instance type'],
    ['dbInstanceClass', RDS_INSTANCE_CLASSES, 'RDS for MySQL instance class'],
    ['mqInstanceType', MQ_ACTIVEMQ_INSTANCE_TYPES, 'Amazon MQ for ActiveMQ instance type'],
  ];
  const found: Array<[string, string]> = [];
  for (const [key, known, what] of catalogs) {
    const value = input[key];
    if (typeof value !== 'string' || badKeys.has(key) || known.has(value)) continue;
    const hint = key === 'mqInstanceType' ? `; use one of ${[...known].join(', ')}` : `; e.g. ${DEFAULTS[key as keyof typeof DEFAULTS]}`;
    found.push([key, `${key}: ${explainUnknownType(value, known, what)}${hint}`]);
  }
  return found;
}

/** Pulumi hands config values over as strings; structured values arrive as JSON text. */
function coerce(key: string, value: unknown): unknown {
  if (typeof value === 'number' && wantsString(key)) return String(value);
  if (typeof value !== 'string') return value;
  const prop = (SCHEMA.properties as unknown as Record<string, { type?: string; enum?: readonly unknown[] }>)[key];
  if (!prop) return value;
  const wantsNumber = prop.type === 'integer' || prop.type === 'number' || (prop.enum && typeof prop.enum[0] === 'number');
  if (wantsNumber && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  if (prop.type === 'boolean') {
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

/**
 * Keys that earlier versions documented but that never changed what was deployed: a stack that
 * still sets one is told so by name (with why) instead of getting a bare "unknown key".
 */
export const REMOVED_KEYS: Readonly<Record<string, string>> = {
  mqEngineType: 'the broker is always ActiveMQ (the only engine the broker configuration is written for)',
  useFargate: 'the worker always runs on ECS Fargate',
  enableEcsAlbAccess: 'nothing reaches the worker tasks from the load balancer; their health check runs inside the task',
};

function removedKeyProblem(key: string, fullKey = `grading:${key}`): string {
  return `${key}: this key was removed (${REMOVED_KEYS[key]}); delete it from the stack file: pulumi config rm ${fullKey}`;
}

function describeError(error: ErrorObject): string {
  const key = error.instancePath.split('/')[1] ?? '';
  const secret = SENSITIVE_KEYS.includes(key);
  const got = secret || error.data === undefined || typeof error.data === 'object' ? '' : ` (got ${JSON.stringify(error.data)})`;
  switch (error.keyword) {
    case 'additionalProperties': {
      const unknown = String((error.params as { additionalProperty: string }).additionalProperty);
      if (Object.hasOwn(REMOVED_KEYS, unknown)) return removedKeyProblem(unknown);
      const guess = didYouMean(unknown, KNOWN_KEYS);
      const hint = guess || '; it is not a grading setting (every key is listed in docs/deploy.md)';
      return `${unknown}: unknown key${hint}; rename or remove it`;
    }
    case 'enum': {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
      const guess = typeof error.data === 'string' ? didYouMean(error.data, allowed.map(String)) : nearestNumbers(error.data, allowed);
      return `${key}: must be one of ${allowed.join(', ')}${got}${guess}${RANGE_HINTS[key] ? ` (${RANGE_HINTS[key]})` : ''}`;
    }
    case 'const':
      return `${key}: must be ${(error.params as { allowedValue: unknown }).allowedValue}${got}`;
    case 'pattern': {
      const what = secret ? 'has a character or form that is not allowed' : `"${error.data as string}" has the wrong form`;
      const hint = PATTERN_HINTS[key] ?? `must match ${(error.params as { pattern: string }).pattern}`;
      return `${key}: ${what} (${hint})`;
    }
    case 'format': {
      const where = error.instancePath.slice(1).replace('/', '[') + (error.instancePath.split('/').length > 2 ? ']' : '');
      return `${where}: "${error.data as string}" is not a valid ${(error.params as { format: string }).format} address`;
    }
    case 'not':
      return `${key}: "${error.data as string}" is reserved by the engine; choose another name`;
    case 'type': {
      const type = (error.params as { type: string }).type;
      return `${key}: must be ${(TYPE_WORDS[type] ?? type).replace('<key>', key)}${got}`;
    }
    default:
      return `${key || '(root)'}: ${error.message}${got}${RANGE_HINTS[key] ? ` (${RANGE_HINTS[key]})` : ''}`;
  }
}

/** " (nearest: 7 or 14)" for a number between allowed numbers. */
function nearestNumbers(value: unknown, allowed: unknown[]): string {
  if (typeof value !== 'number' || !allowed.every((a) => typeof a === 'number')) return '';
  const numbers = allowed as number[];
  const below = numbers.filter((a) => a < value).pop();
  const above = numbers.find((a) => a > value);
  const near = [below, above].filter((n) => n !== undefined);
  return near.length ? ` (nearest: ${near.join(' or ')})` : '';
}

/** Why a bound exists, where it is not obvious. */
const RANGE_HINTS: Record<string, string> = {
  availabilityZoneCount: 'RDS and an active/standby broker need subnets in at least 2 availability zones',
  ecsTaskCpu: 'Fargate CPU units: 1024 = 1 vCPU',
  mqMaximumRedeliveries: 'broker-side redeliveries of a rejected request before grading-dlq',
  dbBackupRetentionDays: 'RDS keeps automated backups 1 to 35 days',
  dbAllocatedStorage: 'RDS MySQL gp storage is 20 to 65536 GiB',
  dbMaxAllocatedStorage: 'RDS MySQL gp storage is 20 to 65536 GiB',
};

const TYPE_WORDS: Record<string, string> = {
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  string: 'text',
  array: "a list (YAML list items, or pulumi config set --path 'grading:<key>[0]' <value>)",
};

const PATTERN_HINTS: Record<string, string> = {
  environmentName: 'lowercase letters, digits and dashes, 2-21 characters, starting with a letter',
  mqEngineVersion: 'a supported Amazon MQ ActiveMQ version: 5.18 or 5.19 (5.17 and older are out of support)',
  dbEngineVersion: 'RDS MySQL 8.0 or 8.4 (optionally with a minor version such as 8.4.5), quoted in YAML: "8.4"',
  mqInstanceType: 'an Amazon MQ instance type such as mq.m5.large',
  dbInstanceClass: 'an RDS instance class such as db.t4g.micro',
  judge0InstanceType: 'an EC2 instance type such as t3.medium',
  webInstanceType: 'an EC2 instance type such as t3.small',
  vpcCidr: 'an IPv4 CIDR with a /16../24 mask',
  mqAdminPassword: 'Amazon MQ passwords cannot contain commas, colons, equals signs or whitespace',
  dbPassword: 'RDS MySQL passwords cannot contain /, ", @ or whitespace',
  judge0AmiId: 'an AMI id such as ami-0123456789abcdef0',
  graderImage: 'a full image reference with a tag or digest, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/grader:1.2.3',
  webhookUrl: 'an https URL without credentials or #fragment, e.g. https://site.example/grading-callback',
  webhookSecret: 'at least 32 characters without whitespace (HMAC-SHA256 key)',
  certificateArn: 'an ACM certificate ARN: arn:aws:acm:<region>:<12-digit account>:certificate/<id>',
  s3KmsKeyArn: 'a KMS key or alias ARN',
  dbUsername: 'a letter then letters, digits or underscores, at most 32 characters',
  mqAdminUsername: 'letters, digits and _ . ~ -, 2-100 characters',
  reviewBaseUrl: 'an https URL of an OpenAI-compatible API, e.g. https://api.openai.com/v1',
  reviewModel: 'a model name such as gpt-4o-mini',
  reviewApiKey: 'an API key without whitespace',
  authMode: 'oidc, hmac or none (none only outside production)',
  authIssuer: "the tokens' issuer (iss), without whitespace",
  authAudience: "the tokens' audience (aud), without whitespace",
  authJwksUrl: 'an https URL of a JWKS, e.g. https://login.example.com/.well-known/jwks.json',
  authRolesClaim: 'a claim name or dotted path such as realm_access.roles',
  runbookBaseUrl: 'an https URL of docs/runbook.md without #anchor, e.g. https://github.com/acme/grading-stack/blob/main/docs/runbook.md',
};

/** Reads the `grading:` namespace of the running Pulumi program and validates it. */
export function loadStackConfig(): StackConfig {
  // Imported lazily so the pure parser above can be used without the Pulumi runtime.
  const pulumi = require('@pulumi/pulumi') as typeof import('@pulumi/pulumi');
  const all = pulumi.runtime.allConfig();
  const raw: Record<string, unknown> = {};
  const secretKeys: string[] = [];
  for (const [fullKey, value] of Object.entries(all)) {
    const [namespace, key] = fullKey.split(':');
    if (namespace !== 'grading' || !key) continue;
    raw[key] = value;
    if (isConfigSecret(pulumi, fullKey)) secretKeys.push(key);
  }
  const stack = pulumi.getStack();
  const written = writtenValues(stackFile(stack));
  return parseStackConfig(raw, stack, { secretKeys, written, extraProblems: namespaceProblems(Object.keys(all)) });
}

/**
 * Keys meant for `grading` that landed elsewhere: `pulumi config set key v` without a namespace
 * writes `<project>:key` (grading-stack), and a misspelt namespace is silently ignored.
 */
export function namespaceProblems(fullKeys: string[], project = 'grading-stack'): string[] {
  const present = new Set(fullKeys);
  const problems: string[] = [];
  for (const fullKey of fullKeys) {
    const [namespace, key] = fullKey.split(':');
    if (!key || namespace === 'grading' || present.has(`grading:${key}`)) continue;
    if (namespace === project || (editDistance(namespace, 'grading') <= 2 && !['aws', 'pulumi'].includes(namespace))) {
      if (Object.hasOwn(REMOVED_KEYS, key)) {
        problems.push(`${namespace}:${removedKeyProblem(key, fullKey)}`);
        continue;
      }
      const guess = KNOWN_KEYS.has(key) ? '' : didYouMean(key, KNOWN_KEYS);
      problems.push(`${fullKey}: this stack reads settings from the "grading" namespace only; rename it to grading:${key}${guess}`);
    }
  }
  return problems;
}

/** Pulumi's own check (internal in the SDK), else the variable its language host sets. */
function isConfigSecret(pulumi: typeof import('@pulumi/pulumi'), fullKey: string): boolean {
  const runtime = pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean };
  if (typeof runtime.isConfigSecret === 'function') return runtime.isConfigSecret(fullKey);
  try {
    return (JSON.parse(process.env.PULUMI_CONFIG_SECRET_KEYS ?? '[]') as string[]).includes(fullKey);
  } catch {
    return false;
  }
}

/** Pulumi runs the program in the project directory; the offline plan names the file it read. */
function stackFile(stack: string): string {
  return process.env.GRADING_STACK_FILE ?? path.join(process.cwd(), `Pulumi.${stack}.yaml`);
}

/**
 * The text of each plain `grading:` number in the stack file as written (8.0, not 8), so a
 * message can quote what the user typed. Empty when the file is absent or unreadable.
 */
export function writtenValues(file: string): Record<string, string> {
  let document: YAML.Document.Parsed;
  try {
    document = YAML.parseDocument(fs.readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
  const config = document.get('config', true);
  const written: Record<string, string> = {};
  if (!YAML.isMap(config)) return written;
  for (const item of config.items) {
    const key = YAML.isScalar(item.key) ? String(item.key.value) : '';
    const number = YAML.isScalar(item.value) && typeof item.value.value === 'number' ? item.value.source : undefined;
    if (key.startsWith('grading:') && number !== undefined) {
      written[key.slice('grading:'.length)] = number;
    }
  }
  return written;
}
