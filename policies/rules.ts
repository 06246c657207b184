/**
 * The grading-stack CrossGuard policies. This module only declares them: policies/index.ts builds
 * the PolicyPack (which starts a gRPC server), and tests call the validators directly.
 *
 * Resources are matched by type token, and every rule tolerates unknown (undefined) properties,
 * which is what a preview shows for values that depend on resources not yet created.
 */
import type {
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from '@pulumi/policy';

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
  attachments: [
    'aws:iam/rolePolicyAttachment:RolePolicyAttachment',
    'aws:iam/userPolicyAttachment:UserPolicyAttachment',
    'aws:iam/groupPolicyAttachment:GroupPolicyAttachment',
    'aws:iam/policyAttachment:PolicyAttachment',
  ],
  instance: 'aws:ec2/instance:Instance',
  launchTemplate: 'aws:ec2/launchTemplate:LaunchTemplate',
  alarm: 'aws:cloudwatch/metricAlarm:MetricAlarm',
  listener: ['aws:lb/listener:Listener', 'aws:alb/listener:Listener', 'aws:elasticloadbalancingv2/listener:Listener'],
  loadBalancers: [
    'aws:lb/loadBalancer:LoadBalancer',
    'aws:alb/loadBalancer:LoadBalancer',
    'aws:elasticloadbalancingv2/loadBalancer:LoadBalancer',
  ],
  userPolicy: 'aws:iam/userPolicy:UserPolicy',
  groupPolicy: 'aws:iam/groupPolicy:GroupPolicy',
  ssmParameter: 'aws:ssm/parameter:Parameter',
  rdsParameterGroup: 'aws:rds/parameterGroup:ParameterGroup',
  rdsClusterParameterGroup: 'aws:rds/clusterParameterGroup:ClusterParameterGroup',
  logGroup: 'aws:cloudwatch/logGroup:LogGroup',
  logResourcePolicy: 'aws:cloudwatch/logResourcePolicy:LogResourcePolicy',
  snsTopic: 'aws:sns/topic:Topic',
  kmsKey: 'aws:kms/key:Key',
  resourcePolicies: {
    'aws:s3/bucketPolicy:BucketPolicy': 'policy',
    'aws:sns/topicPolicy:TopicPolicy': 'policy',
    'aws:sqs/queuePolicy:QueuePolicy': 'policy',
    'aws:kms/key:Key': 'policy',
    'aws:ecr/repositoryPolicy:RepositoryPolicy': 'policy',
    'aws:cloudwatch/logResourcePolicy:LogResourcePolicy': 'policyDocument',
  } as Record<string, string>,
};

type Validation = (args: ResourceValidationArgs, report: ReportViolation) => void;
/**
 * Whether production rules apply: the pack's environmentName config, or, when that is not set, the
 * resources' own `Environment: production` tag (the tag every component of this stack carries).
 */
function production(args: {
  getConfig<C extends object>(): C;
  props?: Record<string, unknown>;
  resources?: Array<{ props: Record<string, unknown> }>;
}) {
  let configured: string | undefined;
  try {
    configured = args.getConfig<GradingPolicyConfig>()?.environmentName;
  } catch {
    configured = undefined;
  }
  if (configured) return configured === 'production';
  const tagged = (props: Record<string, unknown> | undefined) => {
    const tags = props?.tags as Record<string, unknown> | undefined;
    return !!tags && typeof tags === 'object' && String(tags.Environment ?? tags.environment ?? '').toLowerCase() === 'production';
  };
  return args.props ? tagged(args.props) : (args.resources ?? []).some((r) => tagged(r.props));
}

function resourcePolicy(
  name: string,
  description: string,
  types: string[],
  validate: Validation,
  enforcementLevel: 'mandatory' | 'advisory' = 'mandatory',
): ResourceValidationPolicy {
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
  return candidates.filter(
    (c) => c.props.bucket === undefined || c.props.bucket === bucket.props.bucket || c.props.bucket === bucket.props.id,
  );
}

function bucketStackPolicy(
  name: string,
  description: string,
  check: (
    bucket: StackValidationArgs['resources'][number],
    all: StackValidationArgs['resources'],
    args: StackValidationArgs,
  ) => string | undefined,
): StackValidationPolicy {
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

export const s3Encryption = bucketStackPolicy(
  's3-server-side-encryption',
  'Every bucket has default server-side encryption (AES256 or aws:kms).',
  (bucket, all) => {
    const configs = attached(
      bucket,
      all.filter((r) => r.type === T.sse),
    );
    const ok = configs.some((c) => {
      const algorithm = (c.props.rules as Array<{ applyServerSideEncryptionByDefault?: { sseAlgorithm?: string } }> | undefined)?.[0]
        ?.applyServerSideEncryptionByDefault?.sseAlgorithm;
      return algorithm === undefined || ['AES256', 'aws:kms', 'aws:kms:dsse'].includes(algorithm);
    });
    return ok ? undefined : `S3 bucket ${bucket.name} has no default server-side encryption configuration.`;
  },
);

export const s3VersioningInProduction = bucketStackPolicy(
  's3-versioning-in-production',
  'Buckets are versioned in production.',
  (bucket, all, args) => {
    if (!production(args)) return undefined;
    const versioning = attached(
      bucket,
      all.filter((r) => r.type === T.versioning),
    );
    const ok = versioning.some((v) => {
      const status = (v.props.versioningConfiguration as { status?: string } | undefined)?.status;
      return status === undefined || status === 'Enabled';
    });
    return ok ? undefined : `S3 bucket ${bucket.name} must have versioning enabled in production.`;
  },
);

export const s3PublicAccessBlocked = bucketStackPolicy(
  's3-public-access-blocked',
  'Every bucket blocks all public access.',
  (bucket, all) => {
    const blocks = attached(
      bucket,
      all.filter((r) => r.type === T.publicAccessBlock),
    );
    const ok = blocks.some((b) =>
      ['blockPublicAcls', 'blockPublicPolicy', 'ignorePublicAcls', 'restrictPublicBuckets'].every(
        (k) => b.props[k] === undefined || b.props[k] === true,
      ),
    );
    return ok ? undefined : `S3 bucket ${bucket.name} must block all public access (all four settings true).`;
  },
);

export const s3TlsOnly = bucketStackPolicy('s3-tls-only', 'Every bucket policy denies requests without TLS.', (bucket, all) => {
  const policies = attached(
    bucket,
    all.filter((r) => r.type === T.bucketPolicy),
  );
  const ok = policies.some((p) => {
    if (p.props.policy === undefined) return true;
    const doc = parseDocument(p.props.policy);
    return statements(doc).some(
      (s) =>
        s.effect === 'deny' &&
        /"aws:securetransport":\["?false"?\]|"aws:securetransport":"?false"?/i.test(JSON.stringify(s.condition ?? {})),
    );
  });
  return ok ? undefined : `S3 bucket ${bucket.name} needs a bucket policy that denies aws:SecureTransport=false.`;
});

// ---- Amazon MQ -------------------------------------------------------------------------------

export const mqNotPublic = resourcePolicy(
  'mq-not-publicly-accessible',
  'Amazon MQ brokers are private.',
  [T.broker],
  ({ name, props }, report) => {
    if (props.publiclyAccessible === true) report(`Amazon MQ broker ${name} must not be publicly accessible.`);
  },
);

export const mqLogs = resourcePolicy(
  'mq-logs-enabled',
  'Amazon MQ brokers send general and audit logs to CloudWatch.',
  [T.broker],
  ({ name, props }, report) => {
    const logs = props.logs as { general?: boolean; audit?: boolean } | undefined;
    if (logs === undefined || logs.general !== true || logs.audit !== true)
      report(`Amazon MQ broker ${name} must enable both general and audit logs.`);
  },
);

const multiAz = (props: Record<string, unknown>) => props.deploymentMode === undefined || props.deploymentMode !== 'SINGLE_INSTANCE';

export const mqMultiAzInProduction = resourcePolicy(
  'mq-multi-az-in-production',
  'Production brokers run active/standby across AZs.',
  [T.broker],
  (args, report) => {
    if (production(args) && !multiAz(args.props)) report(`Amazon MQ broker ${args.name} must use ACTIVE_STANDBY_MULTI_AZ in production.`);
  },
);

export const mqMultiAzAdvisory = resourcePolicy(
  'mq-multi-az-advisory',
  'Outside production, a single-instance broker is allowed but noted.',
  [T.broker],
  (args, report) => {
    if (!production(args) && !multiAz(args.props))
      report(`Amazon MQ broker ${args.name} is a single instance: a broker restart stops grading.`);
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

export const rdsBackups = resourcePolicy(
  'rds-backups-7-days',
  'RDS keeps automated backups for at least 7 days.',
  [T.rds],
  ({ name, props }, report) => {
    const days = props.backupRetentionPeriod as number | undefined;
    if (days === undefined || days < 7)
      report(`RDS instance ${name} must keep backups for at least 7 days (backupRetentionPeriod is ${days ?? 'unset'}).`);
  },
);

export const rdsDeletionProtectionInProduction = resourcePolicy(
  'rds-deletion-protection-in-production',
  'Production databases have deletion protection.',
  [T.rds],
  (args, report) => {
    if (production(args) && args.props.deletionProtection !== true)
      report(`RDS instance ${args.name} must have deletion protection in production.`);
  },
);

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
  const port = (v: unknown) => (v === undefined || v === null || v === '' || Number.isNaN(Number(v)) ? undefined : Number(v));
  // Protocol -1 ("all") opens every port whatever fromPort/toPort say (AWS stores 0/0 or -1/-1 for it).
  const allTraffic = (protocol: unknown) => protocol !== undefined && /^(-1|all)$/i.test(String(protocol));
  const view = (r: StackResource, group: unknown, rule: Record<string, unknown>, cidrs: unknown[]): IngressView => ({
    name: r.name,
    urn: r.urn,
    securityGroupId: group,
    fromPort: allTraffic(rule.ipProtocol ?? rule.protocol) ? undefined : port(rule.fromPort),
    toPort: allTraffic(rule.ipProtocol ?? rule.protocol) ? undefined : port(rule.toPort),
    cidrs: cidrs.filter((c): c is string => typeof c === 'string'),
  });
  for (const r of resources) {
    if (r.type === T.ingressRule) {
      out.push(view(r, r.props.securityGroupId, r.props, [r.props.cidrIpv4, r.props.cidrIpv6]));
    } else if (r.type === T.sgRule && String(r.props.type).toLowerCase() === 'ingress') {
      out.push(view(r, r.props.securityGroupId, r.props, [...asList(r.props.cidrBlocks), ...asList(r.props.ipv6CidrBlocks)]));
    } else if (r.type === T.sg) {
      const rules = (Array.isArray(r.props.ingress) ? r.props.ingress : []).filter(
        (x): x is Record<string, unknown> => !!x && typeof x === 'object',
      );
      for (const rule of rules) out.push(view(r, r.props.id ?? r.name, rule, [...asList(rule.cidrBlocks), ...asList(rule.ipv6CidrBlocks)]));
    }
  }
  return out.filter((i) => i.cidrs.some(openToWorld));
}

/**
 * Whether a CIDR reaches (a large share of) the internet: any prefix shorter than /8, so split
 * ranges such as 0.0.0.0/1 + 128.0.0.0/1 or ::/1 count like 0.0.0.0/0.
 */
export function openToWorld(cidr: unknown): boolean {
  if (typeof cidr !== 'string') return false;
  const match = /^\s*([0-9a-fA-F:.]+)\s*\/\s*(\d{1,3})\s*$/.exec(cidr);
  if (!match) return false;
  return Number(match[2]) < 8;
}

const coversPort = (i: Pick<IngressView, 'fromPort' | 'toPort'>, port: number) =>
  i.fromPort === undefined || i.toPort === undefined || (i.fromPort <= port && port <= i.toPort) || i.fromPort === -1;

export const noPublicIngress: StackValidationPolicy = {
  name: 'no-public-ingress',
  description: 'No security group accepts traffic from 0.0.0.0/0 or ::/0, except HTTP/HTTPS on a load balancer.',
  enforcementLevel: 'mandatory',
  configSchema: CONFIG_SCHEMA,
  validateStack: (args, report) => {
    // Security group ids (or, before creation, names) used by load balancers.
    const albGroups = new Set<unknown>();
    for (const lb of args.resources.filter((r) => r.type === T.alb))
      for (const g of (lb.props.securityGroups ?? []) as unknown[]) albGroups.add(g);
    const albGroupNames = new Set(
      args.resources
        .filter((r) => r.type === T.sg && (albGroups.has(r.props.id) || albGroups.has(r.name)))
        .map((r) => r.props.id ?? r.name),
    );
    for (const ingress of publicIngresses(args.resources)) {
      const webPortsOnly =
        ingress.fromPort !== undefined && ingress.fromPort === ingress.toPort && (ingress.fromPort === 80 || ingress.fromPort === 443);
      const onAlb =
        albGroups.has(ingress.securityGroupId) || albGroupNames.has(ingress.securityGroupId) || ingress.securityGroupId === undefined;
      if (!(webPortsOnly && onAlb))
        report(
          `Security group ingress ${ingress.name} is open to the internet on ports ${ingress.fromPort}-${ingress.toPort}; only 80/443 on a load balancer may be.`,
          ingress.urn,
        );
    }
  },
};

export const noPublicSsh: StackValidationPolicy = {
  name: 'no-public-ssh',
  description: 'SSH (22) is never open to the internet.',
  enforcementLevel: 'mandatory',
  configSchema: CONFIG_SCHEMA,
  validateStack: (args, report) => {
    for (const ingress of publicIngresses(args.resources))
      if (coversPort(ingress, 22)) report(`Security group ingress ${ingress.name} opens SSH (22) to the internet.`, ingress.urn);
  },
};

// ---- Policy documents --------------------------------------------------------------------------

/** One statement, normalized: effect and actions lower-cased, every list a list, principals split. */
interface NormalStatement {
  effect: string;
  actions: string[];
  notActions: string[];
  resources: string[];
  notResources: string[];
  /** Service principals, AWS principals (ARNs or "*"), and whether the statement has any principal at all. */
  services: string[];
  awsPrincipals: string[];
  hasPrincipal: boolean;
  condition: unknown;
  sid?: string;
}

/** A policy document as JSON text or an object; undefined when unknown or unparsable. */
function parseDocument(doc: unknown): unknown {
  if (typeof doc !== 'string') return doc;
  try {
    return JSON.parse(doc);
  } catch {
    return undefined;
  }
}

const asList = (v: unknown): string[] =>
  v === undefined || v === null ? [] : (Array.isArray(v) ? v : [v]).filter((x) => typeof x === 'string');

/** Statements of a document (object or JSON text; Statement as one object or an array). */
function statements(doc: unknown): NormalStatement[] {
  const parsed = parseDocument(doc) as { Statement?: unknown } | undefined;
  const raw = parsed && typeof parsed === 'object' ? parsed.Statement : undefined;
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return list
    .filter((s): s is Record<string, unknown> => !!s && typeof s === 'object')
    .map((s) => {
      const principal = s.Principal;
      const services = principal && typeof principal === 'object' ? asList((principal as Record<string, unknown>).Service) : [];
      const awsPrincipals =
        principal === '*' ? ['*'] : principal && typeof principal === 'object' ? asList((principal as Record<string, unknown>).AWS) : [];
      return {
        effect: String(s.Effect ?? '').toLowerCase(),
        actions: asList(s.Action).map((a) => a.toLowerCase()),
        notActions: asList(s.NotAction).map((a) => a.toLowerCase()),
        resources: asList(s.Resource),
        notResources: asList(s.NotResource),
        services: services.map((x) => x.toLowerCase()),
        awsPrincipals,
        hasPrincipal: principal !== undefined,
        condition: s.Condition,
        sid: typeof s.Sid === 'string' ? s.Sid : undefined,
      };
    });
}

/** IAM's wildcard match (`*`, `?`), case-insensitive, as IAM matches actions. */
function globMatches(pattern: string, value: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return re.test(value);
}

/** Whether an action pattern of a statement grants `action` (e.g. "iam:Pass*" grants iam:PassRole). */
const grants = (s: NormalStatement, action: string) => s.actions.some((pattern) => globMatches(pattern, action));

/** Identity policies (attached to roles, users, groups): every document a resource carries. */
function identityDocuments(type: string, props: Record<string, unknown>): unknown[] {
  if ([T.iamPolicy, T.rolePolicy, T.userPolicy, T.groupPolicy].includes(type)) return [props.policy];
  if (type === T.role) return ((props.inlinePolicies ?? []) as Array<{ policy?: unknown }>).map((p) => p?.policy);
  return [];
}

/** Resource policies (who may use this bucket, key, topic, log group...). */
function resourceDocuments(type: string, props: Record<string, unknown>): unknown[] {
  const key = T.resourcePolicies[type];
  if (key) return [props[key]];
  if (type === T.snsTopic) return [props.policy];
  return [];
}

const IDENTITY_TYPES = [T.iamPolicy, T.rolePolicy, T.userPolicy, T.groupPolicy, T.role];
const RESOURCE_POLICY_TYPES = [...Object.keys(T.resourcePolicies), T.snsTopic];

/** A statement that delegates to a whole account (the usual first statement of a KMS key policy). */
const accountDelegation = (s: NormalStatement) =>
  s.hasPrincipal &&
  s.services.length === 0 &&
  s.awsPrincipals.length > 0 &&
  s.awsPrincipals.every((p) => /^arn:aws[a-z-]*:iam::\d{12}:root$/.test(p) || /^\d{12}$/.test(p));

export const iamNoNotActionAllow = resourcePolicy(
  'iam-no-notaction-allow',
  'No policy allows through NotAction or NotResource (they grant everything not listed, including actions AWS adds later).',
  [...IDENTITY_TYPES, ...RESOURCE_POLICY_TYPES],
  ({ name, props, type }, report) => {
    for (const doc of [...identityDocuments(type, props), ...resourceDocuments(type, props)]) {
      for (const s of statements(doc)) {
        if (s.effect !== 'allow') continue;
        if (s.notActions.length)
          report(`Policy ${name} allows with NotAction (${s.notActions.join(', ')}): list the actions it may take instead.`);
        if (s.notResources.length)
          report(`Policy ${name} allows with NotResource (${s.notResources.join(', ')}): list the resources instead.`);
      }
    }
  },
);

export const iamNoServiceWildcards = resourcePolicy(
  'iam-no-service-wildcards',
  'No policy allows "*" or a whole service ("s3:*", "iam:*"); only a KMS-style delegation to an account root may.',
  [...IDENTITY_TYPES, ...RESOURCE_POLICY_TYPES],
  ({ name, props, type }, report) => {
    for (const doc of [...identityDocuments(type, props), ...resourceDocuments(type, props)]) {
      for (const s of statements(doc)) {
        if (s.effect !== 'allow' || accountDelegation(s)) continue;
        // "*", "s3:*", "*:*", "s*:*": every action of one or more services.
        const wild = s.actions.filter((a) => a === '*' || /^[^:]*\*[^:]*:/.test(a) || /^[^:]+:\*+$/.test(a));
        if (wild.length) report(`Policy ${name} allows ${wild.map((a) => `"${a}"`).join(', ')}: name the actions the role needs.`);
      }
    }
  },
);

/** Resources that stand for every role: "*", arn:...:iam::<any>:*, or role/* (any path, any account). */
const anyRole = (resource: string) => resource === '*' || /^arn:[^:]*:iam::[^:]*:(\*|role\/\*|role\/.*\/\*)$/i.test(resource);

export const iamNoPassRoleOnStar = resourcePolicy(
  'iam-no-passrole-on-any-role',
  'iam:PassRole is allowed only on named roles (PassRole on "*" lets the holder hand any role, admin included, to a service).',
  IDENTITY_TYPES,
  ({ name, props, type }, report) => {
    for (const doc of identityDocuments(type, props)) {
      for (const s of statements(doc)) {
        if (s.effect !== 'allow' || !grants(s, 'iam:PassRole')) continue;
        const broad = s.resources.filter(anyRole);
        if (broad.length || s.notResources.length)
          report(`Policy ${name} allows iam:PassRole on ${broad.length ? broad.join(', ') : 'NotResource'}: name the roles it may pass.`);
      }
    }
  },
);

/** AWS managed policies that hand out administration or a whole service. */
export function privilegedManagedPolicy(arn: string): boolean {
  const match = /^arn:aws[a-z-]*:iam::aws:policy\/(.+)$/i.exec(arn.trim());
  if (!match) return false;
  const name = match[1].split('/').pop() ?? '';
  return (
    /^AdministratorAccess/i.test(name) ||
    /^(PowerUserAccess|IAMFullAccess|AWSOrganizationsFullAccess|SystemAdministrator|NetworkAdministrator|DatabaseAdministrator)$/i.test(
      name,
    ) ||
    /FullAccess$/i.test(name) ||
    /^job-function\//i.test(match[1])
  );
}

export const iamNoPrivilegedManagedPolicies = resourcePolicy(
  'iam-no-privileged-managed-policy',
  'No role, user or group gets AdministratorAccess, PowerUserAccess, IAMFullAccess or another *FullAccess AWS managed policy.',
  [...T.attachments, T.role, 'aws:iam/user:User', 'aws:iam/group:Group'],
  ({ name, props, type }, report) => {
    const arns = type === T.role ? asList(props.managedPolicyArns) : asList(props.policyArn);
    for (const arn of arns)
      if (privilegedManagedPolicy(arn))
        report(`IAM ${type === T.role ? 'role' : 'attachment'} ${name} grants the privileged AWS managed policy ${arn.split('/').pop()}.`);
  },
);

// ---- Secrets -----------------------------------------------------------------------------------

const SECRET_WORD = /(PASSWORD|PASSWD|PASSPHRASE|SECRET|CREDENTIAL|PRIVATE_?KEY|ACCESS_?KEY)/i;
const SECRET_SEGMENT = /^(PWD|TOKEN|KEY|APIKEY|AUTHTOKEN|SECRETS|CREDENTIALS)$/i;
/** Names that carry where a secret lives, not the secret (MQ_PASSWORD_PARAM=/env/mq/password). */
const REFERENCE_SUFFIX = /_(PARAM|PARAMS|PARAMETER|PARAMETER_NAME|ARN|NAME|FILE|PATH|HEADER|URL|URI|ENDPOINT|ID_PARAM|SECRET_ID)$/i;

/** Whether an environment variable name says it holds a secret (DB_PASSWORD, API_KEY, JUDGE0_AUTH_TOKEN...). */
export function secretName(name: string): boolean {
  if (REFERENCE_SUFFIX.test(name)) return false;
  const normalized = name.replace(/([a-z])([A-Z])/g, '$1_$2').replace(/[-.]/g, '_');
  return SECRET_WORD.test(normalized) || normalized.split('_').some((segment) => SECRET_SEGMENT.test(segment));
}

export const ssmSecretsAreSecure = resourcePolicy(
  'ssm-secrets-are-securestring',
  'SSM parameters that hold a password, secret, token or key are SecureString.',
  [T.ssmParameter],
  ({ name, props }, report) => {
    const type = typeof props.type === 'string' ? props.type : undefined;
    if (type === undefined || type === 'SecureString') return;
    const label = [props.name, name, props.description].filter((x): x is string => typeof x === 'string').join(' ');
    const words = label.split(/[/\s,.:;()]+/).filter(Boolean);
    const secret = words.some((w) => /password|passwd|secret|token|api[-_]?key|private[-_]?key|credential/i.test(w));
    if (secret) report(`SSM parameter ${typeof props.name === 'string' ? props.name : name} holds a secret as ${type}: use SecureString.`);
  },
);

/** User data as text: launch templates carry it base64-encoded. */
function userDataText(props: Record<string, unknown>): string {
  const raw = [props.userData, props.userDataBase64].filter((v): v is string => typeof v === 'string');
  return raw
    .map((text) => {
      const compact = text.replace(/\s+/g, '');
      if (/^[A-Za-z0-9+/]+={0,2}$/.test(compact) && compact.length % 4 === 0 && compact.length >= 8) {
        const decoded = Buffer.from(compact, 'base64').toString('utf8');
        if (!decoded.includes('\uFFFD')) return decoded;
      }
      return text;
    })
    .join('\n');
}

/** NAME=value (or NAME: value) assignments of secret-named variables with a literal value. */
export function secretAssignments(text: string): string[] {
  const found: string[] = [];
  const assignment = /([A-Za-z_][A-Za-z0-9_.-]*)\s*(?:=|:)\s*(['"]?)([^\s'"\\]+)/g;
  for (const m of text.matchAll(assignment)) {
    const [, name, , value] = m;
    if (!secretName(name)) continue;
    // A reference, not a value: another variable, a command, an SSM path, an ARN, a placeholder,
    // or the start of a structure (YAML `chpasswd: {expire: false}`).
    if (/^(\$|`|\/|arn:|\{|\[|<|%|\||>|&)/.test(value) || value === '-' || value === '') continue;
    found.push(name);
  }
  // Secrets given as command-line flags: --password X, -pX for mysql, aws configure set aws_secret_access_key X.
  for (const m of text.matchAll(/--(?:password|passwd|secret|token|api-key)(?:=|\s+)(['"]?)([^\s'"-][^\s'"]*)/gi))
    if (!/^(\$|`|\/)/.test(m[2])) found.push(`--${m[0].slice(2).split(/[=\s]/)[0]}`);
  for (const m of text.matchAll(/\bmysql(?:admin|dump)?\b[^\n]*\s-p([^\s$`'"][^\s]*)/g)) if (m[1]) found.push('mysql -p');
  if (/aws\s+configure\s+set\s+aws_secret_access_key\s+[^\s$`]/i.test(text)) found.push('aws_secret_access_key');
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) found.push('PRIVATE KEY block');
  if (/\bAKIA[0-9A-Z]{16}\b/.test(text)) found.push('AWS access key id');
  if (CREDENTIAL_URL.test(text)) found.push('password in a URL');
  return [...new Set(found)];
}

/** scheme://user:password@host, a password in a connection string (mysql://, amqp+ssl://, redis://...). */
const CREDENTIAL_URL = /\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@'"]+:(?!\$)[^/\s@'"]+@/i;

export const noSecretsInUserData = resourcePolicy(
  'no-secrets-in-user-data',
  'EC2 user data carries no secret (it is stored and shown in clear text): fetch secrets from SSM at boot.',
  [T.instance, T.launchTemplate],
  ({ name, props, type }, report) => {
    const found = secretAssignments(userDataText(props));
    if (found.length)
      report(
        `${type === T.instance ? 'EC2 instance' : 'Launch template'} ${name} has secrets in its user data (${found.join(', ')}): read them from SSM at boot.`,
      );
  },
);

// ---- ECS ---------------------------------------------------------------------------------------

export const ecsNoPublicIp = resourcePolicy(
  'ecs-no-public-ip',
  'ECS services do not give tasks public IPs.',
  [T.ecsService],
  ({ name, props }, report) => {
    if ((props.networkConfiguration as { assignPublicIp?: boolean } | undefined)?.assignPublicIp === true)
      report(`ECS service ${name} must not assign public IPs to its tasks.`);
  },
);

/** Container definitions as JSON text or an array. */
function containers(props: Record<string, unknown>): Array<Record<string, unknown>> {
  const raw = parseDocument(props.containerDefinitions);
  return Array.isArray(raw) ? raw.filter((c) => c && typeof c === 'object') : [];
}

export const ecsNoPrivileged = resourcePolicy(
  'ecs-no-privileged-containers',
  'No ECS container runs privileged.',
  [T.taskDefinition],
  ({ name, props }, report) => {
    for (const c of containers(props))
      if (c.privileged === true) report(`ECS task definition ${name}: container ${String(c.name)} must not be privileged.`);
  },
);

export const ecsLogsConfigured = resourcePolicy(
  'ecs-logs-configured',
  'Every ECS container sends its logs somewhere.',
  [T.taskDefinition],
  ({ name, props }, report) => {
    for (const c of containers(props))
      if (!c.logConfiguration) report(`ECS task definition ${name}: container ${String(c.name)} has no logConfiguration.`);
  },
);

export const ecsNoSecretsInEnvironment = resourcePolicy(
  'ecs-no-secrets-in-environment',
  'Task environment variables carry no secret (they show in the console and API): use `secrets` (SSM/Secrets Manager) or a parameter name.',
  [T.taskDefinition],
  ({ name, props }, report) => {
    for (const c of containers(props)) {
      const env = Array.isArray(c.environment) ? (c.environment as Array<{ name?: unknown; value?: unknown }>) : [];
      const reference = (value: unknown) => typeof value === 'string' && /^(\/|arn:)/.test(value);
      const secrets = env
        .filter(
          (e) =>
            typeof e?.name === 'string' &&
            ((secretName(e.name) && !reference(e.value)) || (typeof e.value === 'string' && CREDENTIAL_URL.test(e.value))),
        )
        .map((e) => e.name as string);
      if (secrets.length)
        report(
          `ECS task definition ${name}: container ${String(c.name)} has secrets in its environment (${secrets.join(', ')}): use secrets or a parameter name.`,
        );
    }
  },
);

// ---- EC2 -------------------------------------------------------------------------------------

export const ec2Imdsv2 = resourcePolicy(
  'ec2-imdsv2-required',
  'Instances and launch templates require IMDSv2 tokens.',
  [T.instance, T.launchTemplate],
  ({ name, props, type }, report) => {
    const tokens = (props.metadataOptions as { httpTokens?: string } | undefined)?.httpTokens;
    if (tokens !== 'required')
      report(
        `${type === T.instance ? 'EC2 instance' : 'Launch template'} ${name} must require IMDSv2 (metadataOptions.httpTokens = "required").`,
      );
  },
);

export const ec2EncryptedRoot = resourcePolicy(
  'ec2-encrypted-root-volume',
  'Root volumes are encrypted.',
  [T.instance, T.launchTemplate],
  ({ name, props, type }, report) => {
    if (type === T.instance) {
      if ((props.rootBlockDevice as { encrypted?: boolean } | undefined)?.encrypted !== true)
        report(`EC2 instance ${name} must encrypt its root volume.`);
      return;
    }
    const mappings = (props.blockDeviceMappings ?? []) as Array<{ ebs?: { encrypted?: string | boolean } }>;
    if (mappings.length === 0 || mappings.some((m) => m.ebs && String(m.ebs.encrypted) !== 'true'))
      report(`Launch template ${name} must encrypt its EBS volumes.`);
  },
);

// ---- Alarms ----------------------------------------------------------------------------------

export const alarmsHaveActions = resourcePolicy(
  'alarms-have-actions',
  'Every CloudWatch alarm notifies someone.',
  [T.alarm],
  ({ name, props }, report) => {
    if (!Array.isArray(props.alarmActions) || props.alarmActions.length === 0) report(`CloudWatch alarm ${name} has no alarm action.`);
  },
);

// ---- Load balancers ----------------------------------------------------------------------------

type StackResource = StackValidationArgs['resources'][number];

const isPublicAlb = (lb: StackResource) => lb.props.internal !== true && (lb.props.loadBalancerType ?? 'application') === 'application';

/** The load balancer a listener belongs to, or undefined when it cannot be told (unknown in a preview). */
function listenerBalancer(listener: StackResource, all: StackResource[]): StackResource | undefined {
  const arn = listener.props.loadBalancerArn;
  const lbs = all.filter((r) => T.loadBalancers.includes(r.type));
  if (typeof arn === 'string')
    return lbs.find(
      (lb) => lb.props.arn === arn || lb.props.id === arn || (typeof lb.props.name === 'string' && arn.includes(`/${lb.props.name}/`)),
    );
  return lbs.length === 1 ? lbs[0] : undefined;
}

const listenerProtocol = (l: StackResource) =>
  typeof l.props.protocol === 'string' ? l.props.protocol.toUpperCase() : l.props.certificateArn ? 'HTTPS' : 'HTTP';
const actionTypes = (l: StackResource) =>
  ((l.props.defaultActions ?? []) as Array<{ type?: string; forward?: unknown }>).map((a) =>
    a?.forward ? 'forward' : String(a?.type ?? '').toLowerCase(),
  );

export const albNoPlainHttpForwarding: StackValidationPolicy = {
  name: 'alb-no-plain-http-forwarding',
  description: 'A public load balancer never forwards plain HTTP to targets: port 80 only redirects to HTTPS.',
  enforcementLevel: 'mandatory',
  configSchema: CONFIG_SCHEMA,
  validateStack: (args, report) => {
    for (const l of args.resources.filter((r) => T.listener.includes(r.type))) {
      if (listenerProtocol(l) !== 'HTTP') continue;
      const lb = listenerBalancer(l, args.resources);
      if (lb && !isPublicAlb(lb)) continue;
      const types = actionTypes(l);
      if (types.some((t) => t === 'forward' || t.startsWith('authenticate')))
        report(`Listener ${l.name} forwards plain HTTP from a public load balancer: redirect port 80 to HTTPS instead.`, l.urn);
    }
  },
};

export const productionHttpsOnly: StackValidationPolicy = {
  name: 'production-https-only',
  description: 'In production every public load balancer serves HTTPS with a certificate.',
  enforcementLevel: 'mandatory',
  configSchema: CONFIG_SCHEMA,
  validateStack: (args, report) => {
    if (!production(args)) return;
    const listeners = args.resources.filter((r) => T.listener.includes(r.type));
    for (const lb of args.resources.filter((r) => T.loadBalancers.includes(r.type) && isPublicAlb(r))) {
      // Listeners whose balancer cannot be told (unknown ARN in a preview) count for every balancer.
      const own = listeners.filter((l) => [lb, undefined].includes(listenerBalancer(l, args.resources)));
      const https = own.some((l) => listenerProtocol(l) === 'HTTPS' && l.props.certificateArn !== '' && l.props.certificateArn !== null);
      if (!https)
        report(
          `Load balancer ${lb.name} has no HTTPS listener with a certificate: production serves HTTPS only (set certificateArn).`,
          lb.urn,
        );
    }
  },
};

export const albHardened = resourcePolicy(
  'alb-drops-invalid-headers-and-logs',
  'A public application load balancer drops invalid header fields and writes access logs to S3.',
  T.loadBalancers,
  ({ name, props }, report) => {
    if (props.internal === true || (props.loadBalancerType ?? 'application') !== 'application') return;
    if (props.dropInvalidHeaderFields !== true)
      report(`Load balancer ${name} must drop invalid header fields (dropInvalidHeaderFields = true).`);
    const logs = props.accessLogs as { enabled?: boolean; bucket?: unknown } | undefined;
    if (!logs || logs.enabled === false || (logs.bucket !== undefined && !logs.bucket))
      report(`Load balancer ${name} must write access logs to S3 (accessLogs with a bucket, enabled).`);
  },
);

// ---- Databases ---------------------------------------------------------------------------------

/** Whether a parameter group's parameters make clients use TLS (MySQL/MariaDB or PostgreSQL). */
function requiresTls(group: { props: Record<string, unknown> }): boolean {
  const params = (Array.isArray(group.props.parameters) ? group.props.parameters : []) as Array<{ name?: string; value?: unknown }>;
  return params.some(
    (p) => /^(require_secure_transport|rds\.force_ssl)$/i.test(String(p?.name ?? '')) && /^(1|on|true)$/i.test(String(p?.value ?? '')),
  );
}

const tlsCapableFamily = (family: unknown) => typeof family !== 'string' || /mysql|mariadb|postgres/i.test(family);

export const rdsParameterGroupRequiresTls = resourcePolicy(
  'rds-parameter-group-requires-tls',
  'RDS parameter groups set require_secure_transport (MySQL/MariaDB) or rds.force_ssl (PostgreSQL).',
  [T.rdsParameterGroup, T.rdsClusterParameterGroup],
  ({ name, props }, report) => {
    if (tlsCapableFamily(props.family) && !requiresTls({ props }))
      report(`RDS parameter group ${name} must require TLS (require_secure_transport = 1, or rds.force_ssl = 1 for PostgreSQL).`);
  },
);

export const rdsRequiresTls: StackValidationPolicy = {
  name: 'rds-require-secure-transport',
  description: 'Every RDS instance uses a parameter group of this stack that requires TLS (the default group does not).',
  enforcementLevel: 'mandatory',
  configSchema: CONFIG_SCHEMA,
  validateStack: (args, report) => {
    const checks: Array<[StackResource, unknown, StackResource[]]> = [
      ...args.resources
        .filter((r) => r.type === T.rds)
        .map((db): [StackResource, unknown, StackResource[]] => [
          db,
          db.props.parameterGroupName,
          args.resources.filter((r) => r.type === T.rdsParameterGroup),
        ]),
      ...args.resources
        .filter((r) => r.type === 'aws:rds/cluster:Cluster')
        .map((c): [StackResource, unknown, StackResource[]] => [
          c,
          c.props.dbClusterParameterGroupName,
          args.resources.filter((r) => r.type === T.rdsClusterParameterGroup),
        ]),
    ];
    for (const [db, named, groups] of checks) {
      let ok: boolean;
      if (typeof named === 'string') {
        const group = groups.find(
          (g) =>
            g.props.name === named ||
            g.props.id === named ||
            g.name === named ||
            (typeof g.props.namePrefix === 'string' && named.startsWith(g.props.namePrefix)),
        );
        // A default group never requires TLS; an unmatched name may be a group's generated physical name.
        if (group) ok = requiresTls(group);
        else ok = !/^default[.:]/i.test(named) && groups.some(requiresTls);
      } else {
        // Unknown until created: accept when the stack has a TLS-requiring group for it to be.
        ok = groups.some(requiresTls);
      }
      if (!ok)
        report(
          `RDS ${db.type === T.rds ? 'instance' : 'cluster'} ${db.name} must use a parameter group that sets require_secure_transport = 1 (got ${typeof named === 'string' ? named : 'the default group'}).`,
          db.urn,
        );
    }
  },
};

// ---- Logs, brokers, alarms ---------------------------------------------------------------------

export const logGroupsHaveRetention = resourcePolicy(
  'log-groups-have-retention',
  'Every CloudWatch log group expires its events (retentionInDays set).',
  [T.logGroup],
  ({ name, props }, report) => {
    const days = props.retentionInDays;
    if (typeof days !== 'number' || days <= 0) report(`CloudWatch log group ${name} keeps its logs forever: set retentionInDays.`);
  },
);

export const mqNoConsoleUsers = resourcePolicy(
  'mq-no-console-users',
  'No Amazon MQ user has web console access.',
  [T.broker],
  ({ name, props }, report) => {
    for (const user of (Array.isArray(props.users) ? props.users : []) as Array<{ username?: string; consoleAccess?: unknown }>) {
      if (user?.consoleAccess === true || user?.consoleAccess === 'true')
        report(`Amazon MQ broker ${name}: user ${user.username ?? '(unnamed)'} must not have console access.`);
    }
  },
);

const awsManagedSnsKey = (key: unknown) => typeof key === 'string' && /(^|:)alias\/aws\/sns$/i.test(key.trim());

export const snsNoAwsManagedKey = resourcePolicy(
  'sns-topic-not-under-aws-managed-key',
  'SNS topics are not encrypted with alias/aws/sns: CloudWatch alarms (and other AWS services) cannot publish to them.',
  [T.snsTopic],
  ({ name, props }, report) => {
    if (awsManagedSnsKey(props.kmsMasterKeyId))
      report(
        `SNS topic ${name} uses alias/aws/sns, which CloudWatch alarms cannot publish through: use a customer managed key that lets cloudwatch.amazonaws.com use it.`,
      );
  },
);

export const alarmTopicKeyUsable: StackValidationPolicy = {
  name: 'alarm-topic-key-usable-by-cloudwatch',
  description: "An alarm topic's customer managed key lets cloudwatch.amazonaws.com use it (kms:Decrypt, kms:GenerateDataKey*).",
  enforcementLevel: 'mandatory',
  configSchema: CONFIG_SCHEMA,
  validateStack: (args, report) => {
    const keys = args.resources.filter((r) => r.type === T.kmsKey);
    const alarmTargets = new Set(
      args.resources.filter((r) => r.type === T.alarm).flatMap((a) => [...asList(a.props.alarmActions), ...asList(a.props.okActions)]),
    );
    for (const topic of args.resources.filter((r) => r.type === T.snsTopic)) {
      const keyRef = topic.props.kmsMasterKeyId;
      if (typeof keyRef !== 'string' || awsManagedSnsKey(keyRef)) continue;
      const usedByAlarms =
        [topic.props.arn, topic.props.id].some((x) => typeof x === 'string' && alarmTargets.has(x)) || alarmTargets.size > 0;
      if (!usedByAlarms) continue;
      const key =
        keys.find((k) =>
          [k.props.arn, k.props.id, k.props.keyId].some((x) => typeof x === 'string' && (keyRef === x || keyRef.endsWith(`/${x}`))),
        ) ?? (keys.length === 1 ? keys[0] : undefined);
      if (!key || key.props.policy === undefined) continue;
      const cloudwatch = statements(key.props.policy).filter(
        (s) => s.effect === 'allow' && s.services.some((p) => p === 'cloudwatch.amazonaws.com'),
      );
      const ok = ['kms:Decrypt', 'kms:GenerateDataKey'].every((action) => cloudwatch.some((s) => grants(s, action)));
      if (!ok)
        report(
          `KMS key ${key.name} of alarm topic ${topic.name} must let cloudwatch.amazonaws.com use kms:Decrypt and kms:GenerateDataKey*.`,
          key.urn,
        );
    }
  },
};

/** Whether a resource pattern covers the log groups Amazon MQ writes (/aws/amazonmq/broker/<id>/general...), any region/account. */
function coversAmazonMqLogs(resource: string): boolean {
  if (resource === '*') return true;
  // Region and account of the pattern do not matter here: compare the log-group part.
  const group = /:log-group:(.*)$/.exec(resource)?.[1];
  return group !== undefined && globMatches(group, '/aws/amazonmq/broker/b-1234/general:log-stream:x');
}

export const mqLogsResourcePolicy: StackValidationPolicy = {
  name: 'mq-logs-resource-policy',
  description: 'A broker that publishes logs has a CloudWatch Logs resource policy letting mq.amazonaws.com write /aws/amazonmq/*.',
  enforcementLevel: 'mandatory',
  configSchema: CONFIG_SCHEMA,
  validateStack: (args, report) => {
    const policies = args.resources.filter((r) => r.type === T.logResourcePolicy);
    const allowsMq = policies.some((p) => {
      if (p.props.policyDocument === undefined) return true;
      return statements(p.props.policyDocument).some(
        (s) =>
          s.effect === 'allow' &&
          s.services.includes('mq.amazonaws.com') &&
          grants(s, 'logs:PutLogEvents') &&
          grants(s, 'logs:CreateLogStream') &&
          s.resources.some((r) => coversAmazonMqLogs(r)),
      );
    });
    for (const broker of args.resources.filter((r) => r.type === T.broker)) {
      const logs = broker.props.logs as { general?: unknown; audit?: unknown } | undefined;
      const publishes = logs && (logs.general === true || logs.audit === true || logs.general === 'true' || logs.audit === 'true');
      if (publishes && !allowsMq)
        report(
          `Amazon MQ broker ${broker.name} publishes logs, but no CloudWatch Logs resource policy lets mq.amazonaws.com write to /aws/amazonmq/*: its logs would never arrive.`,
          broker.urn,
        );
    }
  },
};

/** Every (namespace, metric, other dimensions) an alarm watches per Broker dimension value. */
function brokerMetricsWatched(alarm: StackResource): Array<{ broker: string; signature: string }> {
  const metrics: Array<{ namespace?: unknown; metricName?: unknown; dimensions?: unknown }> = [];
  if (alarm.props.metricName !== undefined) metrics.push(alarm.props);
  for (const q of (Array.isArray(alarm.props.metricQueries) ? alarm.props.metricQueries : []) as Array<{
    metric?: Record<string, unknown>;
  }>)
    if (q?.metric) metrics.push(q.metric);
  const out: Array<{ broker: string; signature: string }> = [];
  for (const m of metrics) {
    const dims = (m.dimensions && typeof m.dimensions === 'object' ? m.dimensions : {}) as Record<string, unknown>;
    if (typeof dims.Broker !== 'string') continue;
    const others = Object.entries(dims)
      .filter(([k]) => k !== 'Broker')
      .sort(([a], [b]) => a.localeCompare(b));
    out.push({
      broker: dims.Broker,
      signature: `${String(m.metricName)}${others.length ? ` (${others.map(([k, v]) => `${k}=${String(v)}`).join(', ')})` : ''}`,
    });
  }
  return out;
}

export const alarmsCoverBothBrokers: StackValidationPolicy = {
  name: 'alarms-cover-both-brokers',
  description: 'Alarms on an active/standby broker watch both instances (<name>-1 and <name>-2): after a failover only -2 reports.',
  enforcementLevel: 'mandatory',
  configSchema: CONFIG_SCHEMA,
  validateStack: (args, report) => {
    const watched = args.resources.filter((r) => r.type === T.alarm).flatMap(brokerMetricsWatched);
    for (const broker of args.resources.filter((r) => r.type === T.broker && r.props.deploymentMode === 'ACTIVE_STANDBY_MULTI_AZ')) {
      const brokerName = broker.props.brokerName;
      if (typeof brokerName !== 'string') continue;
      const coverage = new Map<string, Set<string>>();
      for (const w of watched) {
        const suffix = w.broker === `${brokerName}-1` ? '1' : w.broker === `${brokerName}-2` ? '2' : undefined;
        if (!suffix) continue;
        coverage.set(w.signature, (coverage.get(w.signature) ?? new Set()).add(suffix));
      }
      for (const [signature, suffixes] of coverage) {
        if (suffixes.size < 2)
          report(
            `Alarms on ${signature} watch only ${brokerName}-${[...suffixes][0]} of active/standby broker ${broker.name}: also watch ${brokerName}-${suffixes.has('1') ? '2' : '1'} (or use metric math over both).`,
            broker.urn,
          );
      }
    }
  },
};

/** Which roles' policies may read an SSM parameter (by name in the resource ARN, wildcards included). */
function readersOf(parameterName: string, all: StackResource[]): string[] {
  const readers = new Set<string>();
  for (const r of all) {
    const docs = identityDocuments(r.type, r.props);
    const owner = r.type === T.role ? r.name : typeof r.props.role === 'string' ? r.props.role : r.name;
    for (const doc of docs) {
      for (const s of statements(doc)) {
        if (s.effect !== 'allow' || !(grants(s, 'ssm:GetParameter') || grants(s, 'ssm:GetParameters'))) continue;
        if (s.resources.some((res) => res === '*' || globMatches(res.replace(/^.*:parameter/, ''), parameterName))) readers.add(owner);
      }
    }
  }
  return [...readers];
}

/** Whether a task definition or an instance's user data names `parameterName` (in its env, secrets or script). */
function computeMentions(r: StackResource, parameterName: string): boolean {
  const mentions = (text: string) =>
    text.split(/[\s"'=,]+/).some((word) => word === parameterName || word.endsWith(`:parameter${parameterName}`));
  if (r.type === T.taskDefinition) return mentions(JSON.stringify(containers(r.props)));
  if (r.type === T.instance || r.type === T.launchTemplate) return mentions(userDataText(r.props));
  return false;
}

export const mqNoSharedAdminUser: StackValidationPolicy = {
  name: 'mq-no-shared-admin-user',
  description: 'In production no broker user (its SSM password) is shared by more than one tier, and no tier runs as the broker admin.',
  enforcementLevel: 'mandatory',
  configSchema: CONFIG_SCHEMA,
  validateStack: (args, report) => {
    if (!production(args)) return;
    const credentials = args.resources.filter(
      (r) =>
        r.type === T.ssmParameter &&
        typeof r.props.name === 'string' &&
        /(^|[/_-])(mq|broker|activemq|amazonmq)([/_-]|$)/i.test(r.props.name) &&
        /(password|passwd|secret)$/i.test(r.props.name),
    );
    for (const p of credentials) {
      const name = p.props.name as string;
      const readers = readersOf(name, args.resources);
      if (readers.length > 1)
        report(
          `Broker password ${name} is readable by ${readers.length} roles (${readers.join(', ')}): give each tier its own broker user.`,
          p.urn,
        );
      // The same credential handed to more than one kind of compute (task definitions, instances, launch templates).
      const users = args.resources.filter((r) => computeMentions(r, name));
      if (users.length > 1)
        report(
          `Broker password ${name} is given to ${users.length} tiers (${users.map((u) => u.name).join(', ')}): give each tier its own broker user.`,
          p.urn,
        );
    }
    for (const broker of args.resources.filter((r) => r.type === T.broker)) {
      const users = (Array.isArray(broker.props.users) ? broker.props.users : []) as Array<{ username?: string }>;
      if (users.length === 1)
        report(`Amazon MQ broker ${broker.name} has a single user, so every tier shares it: create one user per tier.`, broker.urn);
    }
  },
};

// ---- Deploy breakers: settings AWS refuses or that break later -----------------------------------

const minorVersion = (v: unknown) => (typeof v === 'string' ? /^(\d+)\.(\d+)/.exec(v.trim()) : null);

export const mqAutoMinorVersionUpgrade = resourcePolicy(
  'mq-auto-minor-version-upgrade',
  'ActiveMQ 5.18 and later brokers have autoMinorVersionUpgrade on (Amazon MQ rejects false).',
  [T.broker],
  ({ name, props }, report) => {
    const v = minorVersion(props.engineVersion);
    const modern = !v || Number(v[1]) > 5 || (Number(v[1]) === 5 && Number(v[2]) >= 18);
    if (modern && (props.autoMinorVersionUpgrade === false || props.autoMinorVersionUpgrade === 'false'))
      report(`Amazon MQ broker ${name} must set autoMinorVersionUpgrade = true (required for ActiveMQ 5.18 and later).`);
  },
);

export const mqMessagesExpire = resourcePolicy(
  'mq-messages-expire',
  'The broker configuration gives messages sent without an expiry a lifetime, so queues nobody consumes cannot fill the store.',
  ['aws:mq/configuration:Configuration'],
  ({ name, props }, report) => {
    if (typeof props.data !== 'string' || props.engineType === 'RabbitMQ') return;
    const plugin = /<timeStampingBrokerPlugin\b[^>]*\bzeroExpirationOverride="(\d+)"/.exec(props.data);
    if (!plugin || Number(plugin[1]) <= 0)
      report(`Amazon MQ configuration ${name} must give messages a lifetime (timeStampingBrokerPlugin zeroExpirationOverride > 0).`);
  },
);

export const rdsSupportedMysql = resourcePolicy(
  'rds-mysql-in-standard-support',
  'RDS MySQL runs a version in standard support (8.4): 8.0 and older enrol new instances in paid Extended Support.',
  [T.rds, T.rdsParameterGroup],
  ({ name, props, type }, report) => {
    if (type === T.rds) {
      if (props.engine === 'mysql' && typeof props.engineVersion === 'string' && /^(5\.|8\.0)/.test(props.engineVersion))
        report(`RDS instance ${name} runs MySQL ${props.engineVersion}, past standard support: use 8.4.`);
    } else if (typeof props.family === 'string' && /^mysql(5\.|8\.0)/.test(props.family)) {
      report(`RDS parameter group ${name} is for ${props.family}, past standard support: use mysql8.4.`);
    }
  },
);

export const s3NoFixedBucketName = resourcePolicy(
  's3-bucket-name-not-fixed',
  'Buckets are named by prefix (bucketPrefix): S3 names are global, so a fixed name can already be taken in another account.',
  [T.bucket],
  ({ name, props }, report) => {
    if (typeof props.bucket === 'string' && props.bucket !== '')
      report(`S3 bucket ${name} has the fixed global name "${props.bucket}": use bucketPrefix and read the name from the stack.`);
  },
);

export const asgFollowsLaunchTemplate = resourcePolicy(
  'asg-launch-template-version-and-refresh',
  'An Auto Scaling group names a launch template version number (not $Latest/$Default) and has an instance refresh, so a new template replaces instances.',
  ['aws:autoscaling/group:Group'],
  ({ name, props }, report) => {
    const specs = [
      props.launchTemplate,
      (props.mixedInstancesPolicy as { launchTemplate?: { launchTemplateSpecification?: unknown } } | undefined)?.launchTemplate
        ?.launchTemplateSpecification,
    ];
    const version = specs.map((s) => (s as { version?: unknown } | undefined)?.version).find((v) => v !== undefined);
    if (specs.every((s) => s === undefined)) return;
    if (typeof version === 'string' && /^\$(Latest|Default)$/i.test(version.trim()))
      report(
        `Auto Scaling group ${name} uses launch template version ${version}: a template change never replaces instances; use the template's latestVersion.`,
      );
    if (!props.instanceRefresh)
      report(`Auto Scaling group ${name} has no instanceRefresh: a new launch template version would reach only new instances.`);
  },
);

export const asgHasScalingPolicy: StackValidationPolicy = {
  name: 'asg-has-scaling-policy',
  description: 'An Auto Scaling group that may grow (maxSize > minSize) has a scaling policy.',
  enforcementLevel: 'mandatory',
  configSchema: CONFIG_SCHEMA,
  validateStack: (args, report) => {
    const policies = args.resources.filter((r) => r.type === 'aws:autoscaling/policy:Policy');
    for (const asg of args.resources.filter((r) => r.type === 'aws:autoscaling/group:Group')) {
      if (typeof asg.props.maxSize === 'number' && typeof asg.props.minSize === 'number' && asg.props.maxSize <= asg.props.minSize)
        continue;
      const names = [asg.props.name, asg.props.id, asg.name].filter((x) => typeof x === 'string');
      const own = policies.filter((p) => p.props.autoscalingGroupName === undefined || names.includes(p.props.autoscalingGroupName));
      if (own.length === 0)
        report(`Auto Scaling group ${asg.name} has no scaling policy: it stays at its desired capacity under any load.`, asg.urn);
    }
  },
};

export const ecrTagsRepushable: StackValidationPolicy = {
  name: 'ecr-built-image-tags-repushable',
  description:
    'A repository that docker-build pushes to takes a second push of a tag (MUTABLE): docker-build pushes its tag again whenever the build context changes.',
  enforcementLevel: 'mandatory',
  configSchema: CONFIG_SCHEMA,
  validateStack: (args, report) => {
    const images = args.resources.filter((r) => r.type === 'docker-build:index:Image' && r.props.push !== false);
    if (images.length === 0) return;
    const tags = images.flatMap((i) => asList(i.props.tags));
    for (const repo of args.resources.filter(
      (r) => r.type === 'aws:ecr/repository:Repository' && r.props.imageTagMutability === 'IMMUTABLE',
    )) {
      const pushedTo = tags.length === 0 || tags.some((t) => typeof repo.props.name !== 'string' || t.includes(`/${repo.props.name}:`));
      if (pushedTo)
        report(
          `ECR repository ${repo.name} is IMMUTABLE but docker-build pushes its tag again on every context change: make it MUTABLE and run images by digest.`,
          repo.urn,
        );
    }
  },
};

export const dockerLogsToCloudWatch = resourcePolicy(
  'ec2-containers-log-to-cloudwatch',
  'Containers started from user data send their output to CloudWatch Logs (docker run --log-driver awslogs).',
  [T.instance, T.launchTemplate],
  ({ name, props, type }, report) => {
    const text = userDataText(props);
    // A docker run may continue over several lines (trailing backslashes): look at the whole command.
    const commands = text.split(/\n(?=\S)/).filter((c) => /\bdocker run\b/.test(c));
    const missing = commands.filter((c) => !/--log-driver[=\s]+awslogs\b/.test(c));
    if (missing.length)
      report(
        `${type === T.instance ? 'EC2 instance' : 'Launch template'} ${name} starts a container whose output never reaches CloudWatch: add --log-driver awslogs with a log group.`,
      );
  },
);

/** ECR images a script runs or pulls: [registry account, region, repository]. */
function ecrImagesIn(text: string): Array<{ account: string; region: string; repository: string }> {
  const found = new Map<string, { account: string; region: string; repository: string }>();
  for (const m of text.matchAll(/\b(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9._/-]+?)(?=[:@\s'"]|$)/g)) {
    found.set(m[0], { account: m[1], region: m[2], repository: m[3] });
  }
  return [...found.values()];
}

export const instancesCanPullTheirImages: StackValidationPolicy = {
  name: 'ec2-can-pull-its-ecr-images',
  description: 'An ECR image that EC2 user data pulls is readable by some role of the stack (ecr:BatchGetImage on its repository).',
  enforcementLevel: 'mandatory',
  configSchema: CONFIG_SCHEMA,
  validateStack: (args, report) => {
    const allows = args.resources.flatMap((r) => identityDocuments(r.type, r.props).flatMap((d) => statements(d)));
    const managedReadOnly = args.resources.some((r) =>
      [...asList(r.props.policyArn), ...asList(r.props.managedPolicyArns)].some((arn) =>
        /:policy\/AmazonEC2ContainerRegistry(ReadOnly|PullOnly|PowerUser)$/.test(arn),
      ),
    );
    if (managedReadOnly) return;
    for (const r of args.resources.filter((x) => x.type === T.instance || x.type === T.launchTemplate)) {
      for (const image of ecrImagesIn(userDataText(r.props))) {
        const arn = `arn:aws:ecr:${image.region}:${image.account}:repository/${image.repository}`;
        const ok = allows.some(
          (s) => s.effect === 'allow' && grants(s, 'ecr:BatchGetImage') && s.resources.some((res) => globMatches(res, arn)),
        );
        if (!ok)
          report(
            `${r.name} pulls ${image.repository} from ECR, but no role of the stack may read it: allow ecr:BatchGetImage and ecr:GetDownloadUrlForLayer on ${arn}.`,
            r.urn,
          );
      }
    }
  },
};

export const RESOURCE_POLICIES: ResourceValidationPolicy[] = [
  mqNotPublic,
  mqLogs,
  mqMultiAzInProduction,
  mqMultiAzAdvisory,
  mqNoConsoleUsers,
  rdsEncrypted,
  rdsNotPublic,
  rdsBackups,
  rdsDeletionProtectionInProduction,
  rdsParameterGroupRequiresTls,
  ecsNoPublicIp,
  ecsNoPrivileged,
  ecsLogsConfigured,
  ecsNoSecretsInEnvironment,
  iamNoNotActionAllow,
  iamNoServiceWildcards,
  iamNoPassRoleOnStar,
  iamNoPrivilegedManagedPolicies,
  ssmSecretsAreSecure,
  noSecretsInUserData,
  ec2Imdsv2,
  ec2EncryptedRoot,
  albHardened,
  logGroupsHaveRetention,
  snsNoAwsManagedKey,
  alarmsHaveActions,
  mqAutoMinorVersionUpgrade,
  mqMessagesExpire,
  rdsSupportedMysql,
  s3NoFixedBucketName,
  asgFollowsLaunchTemplate,
  dockerLogsToCloudWatch,
];

export const STACK_POLICIES: StackValidationPolicy[] = [
  s3Encryption,
  s3VersioningInProduction,
  s3PublicAccessBlocked,
  s3TlsOnly,
  noPublicIngress,
  noPublicSsh,
  albNoPlainHttpForwarding,
  productionHttpsOnly,
  rdsRequiresTls,
  alarmTopicKeyUsable,
  mqLogsResourcePolicy,
  alarmsCoverBothBrokers,
  mqNoSharedAdminUser,
  asgHasScalingPolicy,
  ecrTagsRepushable,
  instancesCanPullTheirImages,
];

export const ALL_POLICIES = [...RESOURCE_POLICIES, ...STACK_POLICIES];
