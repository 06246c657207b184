/**
 * The public entry: an internet-facing ALB (HTTPS when a certificate is configured, with port 80
 * only redirecting to it; plain HTTP otherwise, outside production) in front of an Auto Scaling
 * group of gateway instances in private subnets. The ALB drops invalid header fields and writes
 * access logs to its own bucket. The instances run the gateway (web/) from the worker image with a
 * different command and send its logs to CloudWatch; they reach the bucket, broker and database with
 * their own least-privilege role. The group follows the launch template's latest version with a
 * rolling instance refresh, and scales on CPU.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { albLogBucket } from './albLogBucket';
import * as random from '@pulumi/random';
import { parameterName, ssmParameter, tagsFor } from './common';
import { MYSQL_PORT } from './database';
import {
  AccountScope,
  accountScope,
  decryptThroughSsmStatement,
  MANAGED_POLICIES,
  parameterArn,
  readParametersStatement,
  serviceRole,
  ssmKeyArn,
} from './iam';
import { STOMP_SSL_PORT } from './messaging';
import { allowTcpIn, allowTcpOut, Peer, securityGroup } from './securityGroups';
import type { ParameterNames } from './ecsGrading';

export const GATEWAY_PORT = 3000;

export interface WebTierArgs {
  environmentName: string;
  vpcId: pulumi.Input<string>;
  publicSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The gateway instances' security group (AccessGroups); this component adds its rules. */
  webSecurityGroupId: pulumi.Input<string>;
  brokerSecurityGroupId: pulumi.Input<string>;
  databaseSecurityGroupId: pulumi.Input<string>;
  bucketName: pulumi.Input<string>;
  bucketArn: pulumi.Input<string>;
  parameters: { mq: ParameterNames; db: ParameterNames };
  /** The image with dist/web (the worker image); pulled from ECR when repositoryArn is given. */
  image: pulumi.Input<string>;
  /** The ECR repository of `image` (see ecrRepositoryArnOf for a prebuilt ECR image). */
  repositoryArn?: pulumi.Input<string>;
  certificateArn?: string;
  instanceType: string;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  /** Average CPU percent the group's target tracking aims for. */
  cpuTargetValue: number;
  /** Days the gateway's CloudWatch logs and the ALB access logs are kept. */
  logRetentionDays: number;
  /**
   * Code review on request (web/src/review): an OpenAI-compatible endpoint. The key becomes the
   * SecureString /<env>/review/api-key, readable by the gateway instances only.
   */
  review?: { baseUrl: string; model: string; apiKey: pulumi.Input<string> };
  /**
   * How the gateway authenticates callers (web/src/auth/config.ts). hmac: a secret is generated into
   * the SecureString /<env>/web/auth-hmac-secret, readable by the gateway instances only; a site's
   * back end reads it (aws ssm get-parameter --with-decryption) to mint its users' tokens.
   */
  auth: GatewayAuthArgs;
  /**
   * Signed result callbacks (web/src/webhooks): the signing key becomes the SecureString
   * /<env>/web/webhook-secret (`secret`, a Pulumi secret, or 64 random characters), readable by the
   * gateway instances only; `url` is the site-wide WEBHOOK_URL. Requests may name their own callbackUrl.
   * Default: on, with a generated key and no site URL.
   */
  webhooks?: { url?: string; secret?: pulumi.Input<string> };
}

export interface GatewayAuthArgs {
  mode: 'oidc' | 'hmac' | 'none';
  issuer?: string;
  audience?: string;
  jwksUrl?: string;
  rolesClaim?: string;
}

/** What the gateway instances are told about authentication: the HMAC secret's parameter name, never the secret. */
export interface GatewayAuthSettings extends GatewayAuthArgs {
  hmacSecretParameter?: string;
}

export class WebTier extends pulumi.ComponentResource {
  readonly albDnsName: pulumi.Output<string>;
  readonly albArnSuffix: pulumi.Output<string>;
  readonly albSecurityGroupId: pulumi.Output<string>;
  readonly targetGroupArnSuffix: pulumi.Output<string>;
  readonly autoScalingGroupName: pulumi.Output<string>;
  readonly instanceRoleName: pulumi.Output<string>;
  readonly logGroupName: pulumi.Output<string>;
  readonly accessLogBucketName: pulumi.Output<string>;

  constructor(name: string, args: WebTierArgs, opts?: pulumi.ComponentResourceOptions) {
    super('grading:index:WebTier', name, {}, opts);
    const env = args.environmentName;
    const tags = tagsFor(env, 'WebTier');
    const scope = accountScope(this);

    const albSg = this.createSecurityGroups(name, args, tags);
    this.albSecurityGroupId = albSg.id;
    const accessLogs = albLogBucket(
      `${name}-alb-logs`,
      { environmentName: env, account: scope.account, retentionDays: args.logRetentionDays, tags },
      this,
    );
    this.accessLogBucketName = accessLogs.bucketName;
    const { alb, targetGroup } = this.createLoadBalancer(name, args, { securityGroup: albSg, accessLogs, tags });
    this.albDnsName = alb.dnsName;
    this.albArnSuffix = alb.arnSuffix;
    this.targetGroupArnSuffix = targetGroup.arnSuffix;

    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/grading/${env}/gateway`, retentionInDays: args.logRetentionDays, tags },
      { parent: this },
    );
    this.logGroupName = logGroup.name;

    const review = this.storeReviewKey(name, args, tags);
    const auth = this.generateAuthSecret(name, args, tags);
    const webhooks = this.storeWebhookSecret(name, args, tags);
    const role = this.createInstanceRole(name, args, { scope, logGroup, review, auth, webhooks, tags });
    this.instanceRoleName = role.name;
    const profile = new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name, tags }, { parent: this });

    const launchTemplate = this.createLaunchTemplate(name, args, { region: scope.region, profile, logGroup, review, auth, webhooks, tags });
    const asg = this.createAutoScalingGroup(name, args, { launchTemplate, targetGroup, tags });
    this.autoScalingGroupName = asg.name;
    this.registerOutputs({ albDnsName: this.albDnsName, autoScalingGroupName: this.autoScalingGroupName });
  }

  /**
   * The ALB is the only thing open to the internet, and only on 80/443; the instances are
   * reachable from the ALB only and talk to AWS APIs, the broker and the database.
   */
  private createSecurityGroups(name: string, args: WebTierArgs, tags: Record<string, string>): aws.ec2.SecurityGroup {
    const env = args.environmentName;
    const albSg = securityGroup(
      `${name}-alb-sg`,
      { vpcId: args.vpcId, description: `ALB ${env}-grading: HTTP(S) from the internet`, nameTag: `${env}-grading-alb`, tags },
      this,
    );
    for (const port of args.certificateArn ? [80, 443] : [80]) {
      const what = `HTTP${port === 443 ? 'S' : ''} from anywhere`;
      const rule = { securityGroupId: albSg.id, port, tags };
      allowTcpIn(`${name}-alb-in-${port}-v4`, { ...rule, peer: { cidrIpv4: '0.0.0.0/0' }, description: what }, this);
      allowTcpIn(`${name}-alb-in-${port}-v6`, { ...rule, peer: { cidrIpv6: '::/0' }, description: `${what} (IPv6)` }, this);
    }
    const instances = { referencedSecurityGroupId: args.webSecurityGroupId };
    const toInstances = { securityGroupId: albSg.id, peer: instances, port: GATEWAY_PORT, description: 'to the gateway instances', tags };
    allowTcpOut(`${name}-alb-to-instances`, toInstances, this);

    const fromAlb = { securityGroupId: args.webSecurityGroupId, peer: { referencedSecurityGroupId: albSg.id }, port: GATEWAY_PORT, tags };
    allowTcpIn(`${name}-instances-from-alb`, { ...fromAlb, description: 'gateway from the ALB' }, this);
    const egress = (id: string, peer: Peer, port: number, description: string) =>
      allowTcpOut(`${name}-instances-egress-${id}`, { securityGroupId: args.webSecurityGroupId, peer, port, description, tags }, this);
    egress('https', { cidrIpv4: '0.0.0.0/0' }, 443, 'AWS APIs, ECR, package mirrors, webhook callbacks (port 443 only)');
    egress('broker', { referencedSecurityGroupId: args.brokerSecurityGroupId }, STOMP_SSL_PORT, 'Amazon MQ STOMP+SSL');
    egress('database', { referencedSecurityGroupId: args.databaseSecurityGroupId }, MYSQL_PORT, 'RDS MySQL');
    return albSg;
  }

  /** The public ALB with access logs, the gateway target group, and its listeners (80 redirects when HTTPS is on). */
  private createLoadBalancer(
    name: string,
    args: WebTierArgs,
    parts: { securityGroup: aws.ec2.SecurityGroup; accessLogs: ReturnType<typeof albLogBucket>; tags: Record<string, string> },
  ) {
    const { accessLogs, tags } = parts;
    const parent = { parent: this };
    const alb = new aws.lb.LoadBalancer(
      `${name}-alb`,
      {
        name: `${args.environmentName}-grading`,
        loadBalancerType: 'application',
        internal: false,
        subnets: args.publicSubnetIds,
        securityGroups: [parts.securityGroup.id],
        dropInvalidHeaderFields: true,
        idleTimeout: 120,
        accessLogs: { bucket: accessLogs.bucketName, prefix: accessLogs.prefix, enabled: true },
        tags,
      },
      // ELB checks that it may write to the bucket when logging is turned on.
      { parent: this, dependsOn: [accessLogs.policy] },
    );
    // Liveness: a database or broker blip hits every gateway at once and must not get them all replaced.
    const healthCheck = {
      path: '/health/live',
      protocol: 'HTTP',
      matcher: '200',
      interval: 15,
      timeout: 5,
      healthyThreshold: 2,
      unhealthyThreshold: 3,
    };
    const targetGroup = new aws.lb.TargetGroup(
      `${name}-tg`,
      {
        name: `${args.environmentName}-grading-gw`,
        port: GATEWAY_PORT,
        protocol: 'HTTP',
        targetType: 'instance',
        vpcId: args.vpcId,
        deregistrationDelay: 30,
        healthCheck,
        tags,
      },
      parent,
    );
    const forward = [{ type: 'forward', targetGroupArn: targetGroup.arn }];
    const redirectToHttps = [{ type: 'redirect', redirect: { protocol: 'HTTPS', port: '443', statusCode: 'HTTP_301' } }];
    const https = !!args.certificateArn;
    new aws.lb.Listener(
      `${name}-http`,
      { loadBalancerArn: alb.arn, port: 80, protocol: 'HTTP', defaultActions: https ? redirectToHttps : forward, tags },
      parent,
    );
    if (https) {
      new aws.lb.Listener(
        `${name}-https`,
        {
          loadBalancerArn: alb.arn,
          port: 443,
          protocol: 'HTTPS',
          sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
          certificateArn: args.certificateArn,
          defaultActions: forward,
          tags,
        },
        parent,
      );
    }
    return { alb, targetGroup };
  }

  /** The code-review API key as a SecureString the instances read; undefined without review. */
  private storeReviewKey(name: string, args: WebTierArgs, tags: Record<string, string>): GatewayReviewSettings | undefined {
    if (!args.review) return undefined;
    const review = {
      baseUrl: args.review.baseUrl,
      model: args.review.model,
      apiKeyParameter: parameterName(args.environmentName, 'review', 'api-key'),
    };
    const description = 'API key of the code-review (chat-completions) service';
    ssmParameter(
      `${name}-review-api-key`,
      { name: review.apiKeyParameter, secure: true, value: args.review.apiKey, description },
      tags,
      this,
    );
    return review;
  }

  /** With hmac: a generated HS256 key in a SecureString the instances (and the site's back end) read. */
  private generateAuthSecret(name: string, args: WebTierArgs, tags: Record<string, string>): GatewayAuthSettings {
    const auth: GatewayAuthSettings = { ...args.auth };
    if (auth.mode !== 'hmac') return auth;
    auth.hmacSecretParameter = parameterName(args.environmentName, 'web', 'auth-hmac-secret');
    // 64 letters and digits: 64 bytes of key for HS256 (the gateway refuses fewer than 32).
    const secret = new random.RandomPassword(`${name}-auth-hmac-secret`, { length: 64, special: false }, { parent: this });
    const description = "HS256 key the gateway verifies bearer tokens with; a site back end mints its users' tokens with it";
    ssmParameter(
      `${name}-auth-hmac-secret-param`,
      { name: auth.hmacSecretParameter, secure: true, value: secret.result, description },
      tags,
      this,
    );
    return auth;
  }

  /** The webhook signing key as a SecureString only the instances read (given as a Pulumi secret, else generated). */
  private storeWebhookSecret(name: string, args: WebTierArgs, tags: Record<string, string>): GatewayWebhookSettings {
    const webhooks = { url: args.webhooks?.url, secretParameter: parameterName(args.environmentName, 'web', 'webhook-secret') };
    const secret =
      args.webhooks?.secret ?? new random.RandomPassword(`${name}-webhook-secret`, { length: 64, special: false }, { parent: this }).result;
    const description = 'HMAC-SHA256 key the gateway signs webhook deliveries with; sites verify them with it';
    ssmParameter(`${name}-webhook-secret-param`, { name: webhooks.secretParameter, secure: true, value: secret, description }, tags, this);
    return webhooks;
  }

  /** The instances' role: Session Manager and exactly what the gateway reads and writes (gatewayPolicy). */
  private createInstanceRole(
    name: string,
    args: WebTierArgs,
    parts: {
      scope: AccountScope;
      logGroup: aws.cloudwatch.LogGroup;
      review?: GatewayReviewSettings;
      auth: GatewayAuthSettings;
      webhooks: GatewayWebhookSettings;
      tags: Record<string, string>;
    },
  ): aws.iam.Role {
    const role = serviceRole(
      `${name}-role`,
      {
        service: 'ec2.amazonaws.com',
        description: 'grading gateway instances',
        tags: parts.tags,
        managedPolicies: { [`${name}-ssm-core`]: MANAGED_POLICIES.ssmManagedInstance },
      },
      this,
    );
    const { mq, db } = args.parameters;
    const parameterNames = [
      parts.webhooks.secretParameter,
      ...[mq.endpoint, mq.username, mq.password, db.endpoint, db.username, db.password],
      ...(parts.review ? [parts.review.apiKeyParameter] : []),
      ...(parts.auth.hmacSecretParameter ? [parts.auth.hmacSecretParameter] : []),
    ];
    const policy = gatewayPolicy({
      ...parts.scope,
      bucketArn: args.bucketArn,
      logGroupArn: parts.logGroup.arn,
      parameterNames,
      ssmKeyArn: ssmKeyArn(this),
      repositoryArn: args.repositoryArn,
    });
    new aws.iam.RolePolicy(`${name}-policy`, { role: role.id, policy: pulumi.jsonStringify(policy) }, { parent: this });
    return role;
  }

  /** Amazon Linux 2023 with IMDSv2 and an encrypted disk, booting the gateway container (gatewayUserData). */
  private createLaunchTemplate(
    name: string,
    args: WebTierArgs,
    parts: {
      region: pulumi.Output<string>;
      profile: aws.iam.InstanceProfile;
      logGroup: aws.cloudwatch.LogGroup;
      review?: GatewayReviewSettings;
      auth: GatewayAuthSettings;
      webhooks: GatewayWebhookSettings;
      tags: Record<string, string>;
    },
  ): aws.ec2.LaunchTemplate {
    const env = args.environmentName;
    const { review, auth, webhooks, tags } = parts;
    const ami = aws.ssm.getParameterOutput(
      { name: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' },
      { parent: this },
    );
    const userData = pulumi
      .all([args.image, parts.region, args.bucketName, parts.logGroup.name])
      .apply(([image, region, bucket, logGroupName]) => {
        const script = gatewayUserData({
          image,
          region,
          bucket,
          environment: env,
          parameters: args.parameters,
          review,
          auth,
          logGroupName,
          webhooks,
        });
        return Buffer.from(script).toString('base64');
      });
    const disk = { encrypted: 'true', volumeType: 'gp3', volumeSize: 20, deleteOnTermination: 'true' };
    return new aws.ec2.LaunchTemplate(
      `${name}-lt`,
      {
        namePrefix: `${env}-grading-gw-`,
        imageId: ami.value,
        instanceType: args.instanceType,
        iamInstanceProfile: { arn: parts.profile.arn },
        vpcSecurityGroupIds: [args.webSecurityGroupId],
        userData,
        // The gateway container reads instance credentials through IMDSv2: one hop for docker's bridge.
        metadataOptions: { httpTokens: 'required', httpEndpoint: 'enabled', httpPutResponseHopLimit: 2 },
        blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: disk }],
        monitoring: { enabled: true },
        tagSpecifications: [{ resourceType: 'instance', tags: { ...tags, Name: `${env}-grading-gateway` } }],
        updateDefaultVersion: true,
        tags,
      },
      { parent: this },
    );
  }

  /** The group behind the target group, refreshed on a new template version and scaled on CPU. */
  private createAutoScalingGroup(
    name: string,
    args: WebTierArgs,
    parts: { launchTemplate: aws.ec2.LaunchTemplate; targetGroup: aws.lb.TargetGroup; tags: Record<string, string> },
  ): aws.autoscaling.Group {
    const asg = new aws.autoscaling.Group(
      `${name}-asg`,
      {
        namePrefix: `${args.environmentName}-grading-gw-`,
        vpcZoneIdentifiers: args.privateSubnetIds,
        minSize: args.minSize,
        maxSize: args.maxSize,
        desiredCapacity: args.desiredCapacity,
        // The version number itself (not $Latest): a new template version changes the group, which
        // starts the instance refresh below.
        launchTemplate: { id: parts.launchTemplate.id, version: parts.launchTemplate.latestVersion.apply(String) },
        targetGroupArns: [parts.targetGroup.arn],
        healthCheckType: 'ELB',
        healthCheckGracePeriod: 180,
        instanceRefresh: { strategy: 'Rolling', preferences: { minHealthyPercentage: 50 } },
        tags: Object.entries(parts.tags).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
      },
      // The scaling policy owns the instance count after the first deploy.
      { parent: this, ignoreChanges: ['desiredCapacity'] },
    );
    new aws.autoscaling.Policy(
      `${name}-scale-cpu`,
      {
        autoscalingGroupName: asg.name,
        policyType: 'TargetTrackingScaling',
        estimatedInstanceWarmup: 180,
        targetTrackingConfiguration: {
          predefinedMetricSpecification: { predefinedMetricType: 'ASGAverageCPUUtilization' },
          targetValue: args.cpuTargetValue,
        },
      },
      { parent: this },
    );
    return asg;
  }
}

/**
 * The gateway instances' policy: submissions written and read back, results and problem
 * statements read (never test data), its own log group, its own parameters, and the image.
 */
export function gatewayPolicy(
  o: AccountScope & {
    bucketArn: pulumi.Input<string>;
    logGroupArn: pulumi.Input<string>;
    parameterNames: string[];
    ssmKeyArn: pulumi.Input<string>;
    repositoryArn?: pulumi.Input<string>;
  },
) {
  return {
    Version: '2012-10-17',
    Statement: [
      // Read back too: a pending submission's metadata.json, and the source for a code review.
      {
        Sid: 'StoreSubmissions',
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:GetObject'],
        Resource: pulumi.interpolate`${o.bucketArn}/submissions/*`,
      },
      { Sid: 'ReadResults', Effect: 'Allow', Action: 's3:GetObject', Resource: pulumi.interpolate`${o.bucketArn}/results/*` },
      // Statements and limits only (web/src/problems.ts): never a test case's input or expected output.
      { Sid: 'ReadProblemStatements', Effect: 'Allow', Action: 's3:GetObject', Resource: gatewayProblemObjects(o.bucketArn) },
      // Names, not contents (how many cases a problem has). Unconditional: S3 answers a GetObject of a
      // missing key (an optional manifest.json, an unknown request id) with 404 only to callers that may
      // list the bucket, 403 AccessDenied to everyone else.
      { Sid: 'ListBucket', Effect: 'Allow', Action: 's3:ListBucket', Resource: o.bucketArn },
      {
        Sid: 'WriteGatewayLogs',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: pulumi.interpolate`${o.logGroupArn}:log-stream:*`,
      },
      readParametersStatement(
        'ReadOwnParameters',
        ['ssm:GetParameters', 'ssm:GetParameter'],
        o.parameterNames.map((n) => parameterArn(o, n)),
      ),
      decryptThroughSsmStatement('DecryptSecureStrings', o.region, o.ssmKeyArn),
      ...(o.repositoryArn
        ? [
            {
              Sid: 'PullGatewayImage',
              Effect: 'Allow',
              Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
              Resource: o.repositoryArn,
            },
            // GetAuthorizationToken has no resource-level permission in IAM.
            { Sid: 'EcrLogin', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
          ]
        : []),
    ],
  };
}

/** The S3 objects the gateway reads under problems/: statements and manifests, never test data. */
export function gatewayProblemObjects(bucketArn: pulumi.Input<string>): pulumi.Output<string>[] {
  return [pulumi.interpolate`${bucketArn}/problems/*/description.md`, pulumi.interpolate`${bucketArn}/problems/*/testcases/manifest.json`];
}

/**
 * The repository ARN of an ECR image reference (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>`
 * or `@sha256:...`), so the gateway may pull a prebuilt graderImage; undefined for other registries.
 */
export function ecrRepositoryArnOf(image: string): string | undefined {
  const match = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\/([^:@]+)/.exec(image);
  if (!match) return undefined;
  const [, account, region, china, repository] = match;
  return `arn:${china ? 'aws-cn' : 'aws'}:ecr:${region}:${account}:repository/${repository}`;
}

/** One shell word: as is when it holds only characters the shell leaves alone, else in single quotes. */
export function shellWord(value: string): string {
  return /^[A-Za-z0-9_.,:/@%+=-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** What the gateway instances are told about code review: the key's parameter name, never the key. */
export interface GatewayReviewSettings {
  baseUrl: string;
  model: string;
  apiKeyParameter: string;
}

/** AUTH_* for the gateway container (web/src/auth/config.ts): settings and the secret's parameter name. */
export function gatewayAuthEnvironment(auth: GatewayAuthSettings): Record<string, string> {
  const env: Record<string, string> = { AUTH_MODE: auth.mode };
  if (auth.issuer) env.AUTH_ISSUER = auth.issuer;
  if (auth.audience) env.AUTH_AUDIENCE = auth.audience;
  if (auth.mode === 'oidc' && auth.jwksUrl) env.AUTH_JWKS_URL = auth.jwksUrl;
  if (auth.mode === 'hmac' && auth.hmacSecretParameter) env.AUTH_HMAC_SECRET_PARAM = auth.hmacSecretParameter;
  if (auth.rolesClaim) env.AUTH_ROLES_CLAIM = auth.rolesClaim;
  return env;
}

/** Instance boot script: Docker, then the gateway container. Parameter names only, no secrets. */
/** Where the gateway finds its webhook signing key, and the site-wide callback URL if any. */
export interface GatewayWebhookSettings {
  url?: string;
  secretParameter: string;
}

export function gatewayUserData(o: {
  image: string;
  region: string;
  bucket: string;
  environment: string;
  parameters: WebTierArgs['parameters'];
  review?: GatewayReviewSettings;
  auth: GatewayAuthSettings;
  /** CloudWatch Logs group for the container's output (docker's awslogs driver); docker's default log without it. */
  logGroupName?: string;
  webhooks?: GatewayWebhookSettings;
}): string {
  const registry = o.image.split('/')[0];
  // Log in to the registry's own region (a prebuilt image may live elsewhere).
  const registryRegion = /\.dkr\.ecr\.([a-z0-9-]+)\./.exec(registry)?.[1] ?? o.region;
  const env: Record<string, string> = {
    ENVIRONMENT: o.environment,
    AWS_REGION: o.region,
    GRADING_BUCKET: o.bucket,
    MQ_ENDPOINT_PARAM: o.parameters.mq.endpoint,
    MQ_USERNAME_PARAM: o.parameters.mq.username,
    MQ_PASSWORD_PARAM: o.parameters.mq.password,
    DB_ENDPOINT_PARAM: o.parameters.db.endpoint,
    DB_USERNAME_PARAM: o.parameters.db.username,
    DB_PASSWORD_PARAM: o.parameters.db.password,
    PORT: String(GATEWAY_PORT),
    TRUST_PROXY: 'true',
    ...gatewayAuthEnvironment(o.auth),
    ...(o.review
      ? { REVIEW_BASE_URL: o.review.baseUrl, REVIEW_MODEL: o.review.model, REVIEW_API_KEY_PARAM: o.review.apiKeyParameter }
      : {}),
    ...(o.webhooks ? { WEBHOOK_SECRET_PARAM: o.webhooks.secretParameter } : {}),
    ...(o.webhooks?.url ? { WEBHOOK_URL: o.webhooks.url } : {}),
  };
  return [
    '#!/bin/bash',
    'set -euo pipefail',
    'dnf install -y docker',
    'systemctl enable --now docker',
    registry.includes('.dkr.ecr.')
      ? `aws ecr get-login-password --region ${shellWord(registryRegion)} | ` +
        `docker login --username AWS --password-stdin ${shellWord(registry)}`
      : '',
    // The image's HEALTHCHECK probes the worker's port; the ALB checks the gateway's /health/live instead.
    `docker run -d --name grading-gateway --restart always --no-healthcheck -p ${GATEWAY_PORT}:${GATEWAY_PORT} \\`,
    // Output goes to CloudWatch Logs with the instance role's credentials; a stream per container.
    o.logGroupName
      ? [
          '  --log-driver awslogs',
          `--log-opt ${shellWord(`awslogs-region=${o.region}`)}`,
          `--log-opt ${shellWord(`awslogs-group=${o.logGroupName}`)}`,
          "--log-opt tag='gateway/{{.ID}}' \\",
        ].join(' ')
      : '',
    ...Object.entries(env).map(([k, v]) => `  -e ${shellWord(`${k}=${v}`)} \\`),
    `  ${shellWord(o.image)} node dist/web/src/main.js`,
    '',
  ]
    .filter((line) => line !== '')
    .join('\n');
}
