/**
 * The grading-stack CrossGuard policies. This module only declares them: policies/index.ts builds
 * the PolicyPack (which starts a gRPC server), and tests call the validators directly.
 *
 * Resources are matched by type token, and every rule tolerates unknown (undefined) properties,
 * which is what a preview shows for values that depend on resources not yet created.
 */
import type { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy } from '@pulumi/policy';

export interface GradingPolicyConfig {
  /** "production" turns on the production-only rules. */
  environmentName?: string;
}

export const CONFIG_SCHEMA = { properties: { environmentName: { type: 'string' as const, default: '' } } };

const T = {
  bucket: 'aws:s3/bucket:Bucket',
  sse: 'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration',
  versioning: 'aws:s3/bucketVersioning:BucketVersioning',
  publicAccessBlock: 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock',
  bucketPolicy: 'aws:s3/bucketPolicy:BucketPolicy',
  broker: 'aws:mq/broker:Broker',
  rds: 'aws:rds/instance:Instance',
  sg: 'aws:ec2/securityGroup:SecurityGroup',
  sgRule: 'aws:ec2/securityGroupRule:SecurityGroupRule',
  ingressRule: 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule',
  alb: 'aws:lb/loadBalancer:LoadBalancer',
  ecsService: 'aws:ecs/service:Service',
  taskDefinition: 'aws:ecs/taskDefinition:TaskDefinition',
  iamPolicy: 'aws:iam/policy:Policy',
  rolePolicy: 'aws:iam/rolePolicy:RolePolicy',
  role: 'aws:iam/role:Role',
  attachments: ['aws:iam/rolePolicyAttachment:RolePolicyAttachment', 'aws:iam/userPolicyAttachment:UserPolicyAttachment', 'aws:iam/groupPolicyAttachment:GroupPolicyAttachment', 'aws:iam/policyAttachment:PolicyAttachment'],
  instance: 'aws:ec2/instance:Instance',
  launchTemplate: 'aws:ec2/launchTemplate:LaunchTemplate',
  alarm: 'aws:cloudwatch/metricAlarm:MetricAlarm',
};

type Validation = (args: ResourceValidationArgs, report: ReportViolation) => void;
const production = (args: { getConfig<C extends object>(): C }) => args.getConfig<GradingPolicyConfig>().environmentName === 'production';

function resourcePolicy(name: string, description: string, types: string[], validate: Validation, enforcementLevel: 'mandatory' | 'advisory' = 'mandatory'): ResourceValidationPolicy {
  return {
    name,
    description,
    enforcementLevel,
    configSchema: CONFIG_SCHEMA,
    validateResource: (args, report) => {
      if (types.includes(args.type)) validate(args, report);
    },
  };
}

// ---- S3 --------------------------------------------------------------------------------------

/** Which of `candidates` (resources with a `bucket` prop) belong to `bucket`; unknown props count as a match. */
function attached(bucket: { props: Record<string, unknown> }, candidates: Array<{ props: Record<string, unknown> }>) {
  return candidates.filter((c) => c.props.bucket === undefined || c.props.bucket === bucket.props.bucket || c.props.bucket === bucket.props.id);
}

function bucketStackPolicy(name: string, description: string, check: (bucket: StackValidationArgs['resources'][number], all: StackValidationArgs['resources'], args: StackValidationArgs) => string | undefined): StackValidationPolicy {
  return {
    name,
    description,
    enforcementLevel: 'mandatory',
    configSchema: CONFIG_SCHEMA,
    validateStack: (args, report) => {
      for (const bucket of args.resources.filter((r) => r.type === T.bucket)) {
        const problem = check(bucket, args.resources, args);
        if (problem) report(problem, bucket.urn);
      }
    },
  };
}

export const s3Encryption = bucketStackPolicy('s3-server-side-encryption', 'Every bucket has default server-side encryption (AES256 or aws:kms).', (bucket, all) => {
  const configs = attached(bucket, all.filter((r) => r.type === T.sse));
  const ok = configs.some((c) => {
    const algorithm = (c.props.rules as Array<{ applyServerSideEncryptionByDefault?: { sseAlgorithm?: string } }> | undefined)?.[0]?.applyServerSideEncryptionByDefault?.sseAlgorithm;
    return algorithm === undefined || ['AES256', 'aws:kms', 'aws:kms:dsse'].includes(algorithm);
  });
  return ok ? undefined : `S3 bucket ${bucket.name} has no default server-side encryption configuration.`;
});

export const s3VersioningInProduction = bucketStackPolicy('s3-versioning-in-production', 'Buckets are versioned in production.', (bucket, all, args) => {
  if (!production(args)) return undefined;
  const versioning = attached(bucket, all.filter((r) => r.type === T.versioning));
  const ok = versioning.some((v) => {
    const status = (v.props.versioningConfiguration as { status?: string } | undefined)?.status;
    return status === undefined || status === 'Enabled';
  });
  return ok ? undefined : `S3 bucket ${bucket.name} must have versioning enabled in production.`;
});

export const s3PublicAccessBlocked = bucketStackPolicy('s3-public-access-blocked', 'Every bucket blocks all public access.', (bucket, all) => {
  const blocks = attached(bucket, all.filter((r) => r.type === T.publicAccessBlock));
  const ok = blocks.some((b) => ['blockPublicAcls', 'blockPublicPolicy', 'ignorePublicAcls', 'restrictPublicBuckets'].every((k) => b.props[k] === undefined || b.props[k] === true));
  return ok ? undefined : `S3 bucket ${bucket.name} must block all public access (all four settings true).`;
});

export const s3TlsOnly = bucketStackPolicy('s3-tls-only', 'Every bucket policy denies requests without TLS.', (bucket, all) => {
  const policies = attached(bucket, all.filter((r) => r.type === T.bucketPolicy));
  const ok = policies.some((p) => {
    if (p.props.policy === undefined) return true;
    const doc = parseDocument(p.props.policy);
    return statements(doc).some((s) => s.Effect === 'Deny' && JSON.stringify(s.Condition ?? {}).includes('"aws:SecureTransport":"false"'));
  });
  return ok ? undefined : `S3 bucket ${bucket.name} needs a bucket policy that denies aws:SecureTransport=false.`;
});

// ---- Amazon MQ -------------------------------------------------------------------------------

export const mqNotPublic = resourcePolicy('mq-not-publicly-accessible', 'Amazon MQ brokers are private.', [T.broker], ({ name, props }, report) => {
  if (props.publiclyAccessible === true) report(`Amazon MQ broker ${name} must not be publicly accessible.`);
});

export const mqLogs = resourcePolicy('mq-logs-enabled', 'Amazon MQ brokers send general and audit logs to CloudWatch.', [T.broker], ({ name, props }, report) => {
  const logs = props.logs as { general?: boolean; audit?: boolean } | undefined;
  if (logs === undefined || logs.general !== true || logs.audit !== true) report(`Amazon MQ broker ${name} must enable both general and audit logs.`);
});

const multiAz = (props: Record<string, unknown>) => props.deploymentMode === undefined || props.deploymentMode !== 'SINGLE_INSTANCE';

export const mqMultiAzInProduction = resourcePolicy('mq-multi-az-in-production', 'Production brokers run active/standby across AZs.', [T.broker], (args, report) => {
  if (production(args) && !multiAz(args.props)) report(`Amazon MQ broker ${args.name} must use ACTIVE_STANDBY_MULTI_AZ in production.`);
});

export const mqMultiAzAdvisory = resourcePolicy(
  'mq-multi-az-advisory',
  'Outside production, a single-instance broker is allowed but noted.',
  [T.broker],
  (args, report) => {
    if (!production(args) && !multiAz(args.props)) report(`Amazon MQ broker ${args.name} is a single instance: a broker restart stops grading.`);
  },
  'advisory',
);

// ---- RDS -------------------------------------------------------------------------------------

export const rdsEncrypted = resourcePolicy('rds-encrypted', 'RDS storage is encrypted.', [T.rds], ({ name, props }, report) => {
  if (props.storageEncrypted !== true) report(`RDS instance ${name} must have storageEncrypted = true.`);
});

export const rdsNotPublic = resourcePolicy('rds-not-public', 'RDS instances are private.', [T.rds], ({ name, props }, report) => {
  if (props.publiclyAccessible === true) report(`RDS instance ${name} must not be publicly accessible.`);
});

export const rdsBackups = resourcePolicy('rds-backups-7-days', 'RDS keeps automated backups for at least 7 days.', [T.rds], ({ name, props }, report) => {
  const days = props.backupRetentionPeriod as number | undefined;
  if (days === undefined || days < 7) report(`RDS instance ${name} must keep backups for at least 7 days (backupRetentionPeriod is ${days ?? 'unset'}).`);
});

export const rdsDeletionProtectionInProduction = resourcePolicy('rds-deletion-protection-in-production', 'Production databases have deletion protection.', [T.rds], (args, report) => {
  if (production(args) && args.props.deletionProtection !== true) report(`RDS instance ${args.name} must have deletion protection in production.`);
});

// ---- Network ---------------------------------------------------------------------------------

interface IngressView {
  name: string;
  urn: string;
  securityGroupId: unknown;
  fromPort?: number;
  toPort?: number;
  cidrs: string[];
}

function publicIngresses(resources: StackValidationArgs['resources']): IngressView[] {
  const out: IngressView[] = [];
  for (const r of resources) {
    if (r.type === T.ingressRule) {
      out.push({ name: r.name, urn: r.urn, securityGroupId: r.props.securityGroupId, fromPort: r.props.fromPort, toPort: r.props.toPort, cidrs: [r.props.cidrIpv4, r.props.cidrIpv6].filter(Boolean) });
    } else if (r.type === T.sgRule && r.props.type === 'ingress') {
      out.push({ name: r.name, urn: r.urn, securityGroupId: r.props.securityGroupId, fromPort: r.props.fromPort, toPort: r.props.toPort, cidrs: [...(r.props.cidrBlocks ?? []), ...(r.props.ipv6CidrBlocks ?? [])] });
    } else if (r.type === T.sg) {
      for (const rule of (r.props.ingress ?? []) as Array<{ fromPort?: number; toPort?: number; cidrBlocks?: string[]; ipv6CidrBlocks?: string[] }>) {
        out.push({ name: r.name, urn: r.urn, securityGroupId: r.props.id ?? r.name, fromPort: rule.fromPort, toPort: rule.toPort, cidrs: [...(rule.cidrBlocks ?? []), ...(rule.ipv6CidrBlocks ?? [])] });
      }
    }
  }
  return out.filter((i) => i.cidrs.some((c) => c === '0.0.0.0/0' || c === '::/0'));
}

const coversPort = (i: Pick<IngressView, 'fromPort' | 'toPort'>, port: number) => i.fromPort === undefined || i.toPort === undefined || (i.fromPort <= port && port <= i.toPort) || i.fromPort === -1;

export const noPublicIngress: StackValidationPolicy = {
  name: 'no-public-ingress',
  description: 'No security group accepts traffic from 0.0.0.0/0 or ::/0, except HTTP/HTTPS on a load balancer.',
  enforcementLevel: 'mandatory',
  configSchema: CONFIG_SCHEMA,
  validateStack: (args, report) => {
    // Security group ids (or, before creation, names) used by load balancers.
    const albGroups = new Set<unknown>();
    for (const lb of args.resources.filter((r) => r.type === T.alb)) for (const g of (lb.props.securityGroups ?? []) as unknown[]) albGroups.add(g);
    const albGroupNames = new Set(args.resources.filter((r) => r.type === T.sg && (albGroups.has(r.props.id) || albGroups.has(r.name))).map((r) => r.props.id ?? r.name));
    for (const ingress of publicIngresses(args.resources)) {
      const webPortsOnly = ingress.fromPort !== undefined && ingress.fromPort === ingress.toPort && (ingress.fromPort === 80 || ingress.fromPort === 443);
      const onAlb = albGroups.has(ingress.securityGroupId) || albGroupNames.has(ingress.securityGroupId) || ingress.securityGroupId === undefined;
      if (!(webPortsOnly && onAlb)) report(`Security group ingress ${ingress.name} is open to the internet on ports ${ingress.fromPort}-${ingress.toPort}; only 80/443 on a load balancer may be.`, ingress.urn);
    }
  },
};

export const noPublicSsh: StackValidationPolicy = {
  name: 'no-public-ssh',
  description: 'SSH (22) is never open to the internet.',
  enforcementLevel: 'mandatory',
  configSchema: CONFIG_SCHEMA,
  validateStack: (args, report) => {
    for (const ingress of publicIngresses(args.resources)) if (coversPort(ingress, 22)) report(`Security group ingress ${ingress.name} opens SSH (22) to the internet.`, ingress.urn);
  },
};

// ---- ECS and IAM -----------------------------------------------------------------------------

export const ecsNoPublicIp = resourcePolicy('ecs-no-public-ip', 'ECS services do not give tasks public IPs.', [T.ecsService], ({ name, props }, report) => {
  if ((props.networkConfiguration as { assignPublicIp?: boolean } | undefined)?.assignPublicIp === true) report(`ECS service ${name} must not assign public IPs to its tasks.`);
});

function containers(props: Record<string, unknown>): Array<Record<string, unknown>> | undefined {
  if (typeof props.containerDefinitions !== 'string') return undefined;
  try {
    return JSON.parse(props.containerDefinitions);
  } catch {
    return undefined;
  }
}

export const ecsNoPrivileged = resourcePolicy('ecs-no-privileged-containers', 'No ECS container runs privileged.', [T.taskDefinition], ({ name, props }, report) => {
  for (const c of containers(props) ?? []) if (c.privileged === true) report(`ECS task definition ${name}: container ${String(c.name)} must not be privileged.`);
});

export const ecsLogsConfigured = resourcePolicy('ecs-logs-configured', 'Every ECS container sends its logs somewhere.', [T.taskDefinition], ({ name, props }, report) => {
  for (const c of containers(props) ?? []) if (!c.logConfiguration) report(`ECS task definition ${name}: container ${String(c.name)} has no logConfiguration.`);
});

interface Statement {
  Effect?: string;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  Condition?: unknown;
}

function parseDocument(doc: unknown): unknown {
  if (typeof doc !== 'string') return doc;
  try {
    return JSON.parse(doc);
  } catch {
    return undefined;
  }
}

function statements(doc: unknown): Statement[] {
  const s = (doc as { Statement?: Statement | Statement[] } | undefined)?.Statement;
  return s === undefined ? [] : Array.isArray(s) ? s : [s];
}

const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

export const iamNoStarOnStar = resourcePolicy('iam-no-star-action-on-star-resource', 'No IAM policy allows every action on every resource.', [T.iamPolicy, T.rolePolicy, T.role], ({ name, props, type }, report) => {
  const documents = type === T.role ? ((props.inlinePolicies ?? []) as Array<{ policy?: unknown }>).map((p) => p.policy) : [props.policy];
  for (const doc of documents) {
    for (const s of statements(parseDocument(doc))) {
      if (s.Effect === 'Allow' && list(s.Action).includes('*') && list(s.Resource).includes('*')) report(`IAM policy ${name} allows "*" actions on "*" resources.`);
    }
  }
});

export const iamNoAdminAttachment = resourcePolicy('iam-no-admin-policy', 'Nobody gets AdministratorAccess through this stack.', T.attachments, ({ name, props }, report) => {
  if (typeof props.policyArn === 'string' && /:policy\/AdministratorAccess$/.test(props.policyArn)) report(`IAM attachment ${name} grants AdministratorAccess.`);
});

// ---- EC2 -------------------------------------------------------------------------------------

export const ec2Imdsv2 = resourcePolicy('ec2-imdsv2-required', 'Instances and launch templates require IMDSv2 tokens.', [T.instance, T.launchTemplate], ({ name, props, type }, report) => {
  const tokens = (props.metadataOptions as { httpTokens?: string } | undefined)?.httpTokens;
  if (tokens !== 'required') report(`${type === T.instance ? 'EC2 instance' : 'Launch template'} ${name} must require IMDSv2 (metadataOptions.httpTokens = "required").`);
});

export const ec2EncryptedRoot = resourcePolicy('ec2-encrypted-root-volume', 'Root volumes are encrypted.', [T.instance, T.launchTemplate], ({ name, props, type }, report) => {
  if (type === T.instance) {
    if ((props.rootBlockDevice as { encrypted?: boolean } | undefined)?.encrypted !== true) report(`EC2 instance ${name} must encrypt its root volume.`);
    return;
  }
  const mappings = (props.blockDeviceMappings ?? []) as Array<{ ebs?: { encrypted?: string | boolean } }>;
  if (mappings.length === 0 || mappings.some((m) => m.ebs && String(m.ebs.encrypted) !== 'true')) report(`Launch template ${name} must encrypt its EBS volumes.`);
});

// ---- Alarms ----------------------------------------------------------------------------------

export const alarmsHaveActions = resourcePolicy('alarms-have-actions', 'Every CloudWatch alarm notifies someone.', [T.alarm], ({ name, props }, report) => {
  if (!Array.isArray(props.alarmActions) || props.alarmActions.length === 0) report(`CloudWatch alarm ${name} has no alarm action.`);
});

export const RESOURCE_POLICIES: ResourceValidationPolicy[] = [
  mqNotPublic,
  mqLogs,
  mqMultiAzInProduction,
  mqMultiAzAdvisory,
  rdsEncrypted,
  rdsNotPublic,
  rdsBackups,
  rdsDeletionProtectionInProduction,
  ecsNoPublicIp,
  ecsNoPrivileged,
  ecsLogsConfigured,
  iamNoStarOnStar,
  iamNoAdminAttachment,
  ec2Imdsv2,
  ec2EncryptedRoot,
  alarmsHaveActions,
];

export const STACK_POLICIES: StackValidationPolicy[] = [s3Encryption, s3VersioningInProduction, s3PublicAccessBlocked, s3TlsOnly, noPublicIngress, noPublicSsh];

export const ALL_POLICIES = [...RESOURCE_POLICIES, ...STACK_POLICIES];
