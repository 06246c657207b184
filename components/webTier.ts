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
    const parent = { parent: this };
    const region = aws.getRegionOutput({}, parent).region;
    const account = aws.getCallerIdentityOutput({}, parent).accountId;
    const https = !!args.certificateArn;

    // ALB: the only thing open to the internet, and only on 80/443.
    const albSg = new aws.ec2.SecurityGroup(`${name}-alb-sg`, { vpcId: args.vpcId, description: `ALB ${env}-grading: HTTP(S) from the internet`, tags: { ...tags, Name: `${env}-grading-alb` } }, parent);
    for (const port of https ? [80, 443] : [80]) {
      new aws.vpc.SecurityGroupIngressRule(`${name}-alb-in-${port}-v4`, { securityGroupId: albSg.id, cidrIpv4: '0.0.0.0/0', ipProtocol: 'tcp', fromPort: port, toPort: port, description: `HTTP${port === 443 ? 'S' : ''} from anywhere`, tags }, parent);
      new aws.vpc.SecurityGroupIngressRule(`${name}-alb-in-${port}-v6`, { securityGroupId: albSg.id, cidrIpv6: '::/0', ipProtocol: 'tcp', fromPort: port, toPort: port, description: `HTTP${port === 443 ? 'S' : ''} from anywhere (IPv6)`, tags }, parent);
    }
    new aws.vpc.SecurityGroupEgressRule(`${name}-alb-to-instances`, { securityGroupId: albSg.id, referencedSecurityGroupId: args.webSecurityGroupId, ipProtocol: 'tcp', fromPort: GATEWAY_PORT, toPort: GATEWAY_PORT, description: 'to the gateway instances', tags }, parent);
    this.albSecurityGroupId = albSg.id;

    // Instances: reachable from the ALB only; talk to AWS APIs, the broker and the database.
    new aws.vpc.SecurityGroupIngressRule(`${name}-instances-from-alb`, { securityGroupId: args.webSecurityGroupId, referencedSecurityGroupId: albSg.id, ipProtocol: 'tcp', fromPort: GATEWAY_PORT, toPort: GATEWAY_PORT, description: 'gateway from the ALB', tags }, parent);
    const egress = (id: string, to: Partial<aws.vpc.SecurityGroupEgressRuleArgs>, port: number, description: string) =>
      new aws.vpc.SecurityGroupEgressRule(`${name}-instances-egress-${id}`, { securityGroupId: args.webSecurityGroupId, ipProtocol: 'tcp', fromPort: port, toPort: port, description, tags, ...to }, parent);
    egress('https', { cidrIpv4: '0.0.0.0/0' }, 443, 'AWS APIs, ECR, package mirrors');
    egress('broker', { referencedSecurityGroupId: args.brokerSecurityGroupId }, 61614, 'Amazon MQ STOMP+SSL');
    egress('database', { referencedSecurityGroupId: args.databaseSecurityGroupId }, 3306, 'RDS MySQL');

    const logRetentionDays = args.logRetentionDays;
    const accessLogs = albLogBucket(`${name}-alb-logs`, { environmentName: env, account, retentionDays: logRetentionDays, tags }, this);
    this.accessLogBucketName = accessLogs.bucketName;
    const alb = new aws.lb.LoadBalancer(
      `${name}-alb`,
      {
        name: `${env}-grading`,
        loadBalancerType: 'application',
        internal: false,
        subnets: args.publicSubnetIds,
        securityGroups: [albSg.id],
        dropInvalidHeaderFields: true,
        idleTimeout: 120,
        accessLogs: { bucket: accessLogs.bucketName, prefix: accessLogs.prefix, enabled: true },
        tags,
      },
      // ELB checks that it may write to the bucket when logging is turned on.
      { parent: this, dependsOn: [accessLogs.policy] },
    );
    const targetGroup = new aws.lb.TargetGroup(
      `${name}-tg`,
      {
        name: `${env}-grading-gw`,
        port: GATEWAY_PORT,
        protocol: 'HTTP',
        targetType: 'instance',
        vpcId: args.vpcId,
        deregistrationDelay: 30,
        // Liveness: a database or broker blip hits every gateway at once and must not get them all replaced.
        healthCheck: { path: '/health/live', protocol: 'HTTP', matcher: '200', interval: 15, timeout: 5, healthyThreshold: 2, unhealthyThreshold: 3 },
        tags,
      },
      parent,
    );
    new aws.lb.Listener(
      `${name}-http`,
      {
        loadBalancerArn: alb.arn,
        port: 80,
        protocol: 'HTTP',
        defaultActions: https ? [{ type: 'redirect', redirect: { protocol: 'HTTPS', port: '443', statusCode: 'HTTP_301' } }] : [{ type: 'forward', targetGroupArn: targetGroup.arn }],
        tags,
      },
      parent,
    );
    if (https) {
      new aws.lb.Listener(
        `${name}-https`,
        { loadBalancerArn: alb.arn, port: 443, protocol: 'HTTPS', sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06', certificateArn: args.certificateArn, defaultActions: [{ type: 'forward', targetGroupArn: targetGroup.arn }], tags },
        parent,
      );
    }
    this.albDnsName = alb.dnsName;
    this.albArnSuffix = alb.arnSuffix;
    this.targetGroupArnSuffix = targetGroup.arnSuffix;

    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/grading/${env}/gateway`, retentionInDays: logRetentionDays, tags },
      parent,
    );
    this.logGroupName = logGroup.name;

    const role = new aws.iam.Role(
      `${name}-role`,
      { assumeRolePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] }), description: 'grading gateway instances', tags },
      parent,
    );
    new aws.iam.RolePolicyAttachment(`${name}-ssm-core`, { role: role.name, policyArn: 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore' }, parent);
    const ssmKey = aws.kms.getAliasOutput({ name: 'alias/aws/ssm' }, parent);
    let review: GatewayReviewSettings | undefined;
    if (args.review) {
      review = { baseUrl: args.review.baseUrl, model: args.review.model, apiKeyParameter: parameterName(env, 'review', 'api-key') };
      ssmParameter(`${name}-review-api-key`, { name: review.apiKeyParameter, secure: true, value: args.review.apiKey, description: 'API key of the code-review (chat-completions) service' }, tags, this);
    }
    const auth: GatewayAuthSettings = { ...args.auth };
    if (auth.mode === 'hmac') {
      auth.hmacSecretParameter = parameterName(env, 'web', 'auth-hmac-secret');
      // 64 letters and digits: 64 bytes of key for HS256 (the gateway refuses fewer than 32).
      const secret = new random.RandomPassword(`${name}-auth-hmac-secret`, { length: 64, special: false }, parent);
      const description = 'HS256 key the gateway verifies bearer tokens with; a site back end mints its users\' tokens with it';
      ssmParameter(`${name}-auth-hmac-secret-param`, { name: auth.hmacSecretParameter, secure: true, value: secret.result, description }, tags, this);
    }
    const parameterNames = [args.parameters.mq.endpoint, args.parameters.mq.username, args.parameters.mq.password, args.parameters.db.endpoint, args.parameters.db.username, args.parameters.db.password, ...(review ? [review.apiKeyParameter] : []), ...(auth.hmacSecretParameter ? [auth.hmacSecretParameter] : [])];
    new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: role.id,
        policy: pulumi.jsonStringify({
          Version: '2012-10-17',
          Statement: [
            // Read back too: a pending submission's metadata.json, and the source for a code review.
            { Sid: 'StoreSubmissions', Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject'], Resource: pulumi.interpolate`${args.bucketArn}/submissions/*` },
            { Sid: 'ReadResults', Effect: 'Allow', Action: 's3:GetObject', Resource: pulumi.interpolate`${args.bucketArn}/results/*` },
            // Statements and limits only (web/src/problems.ts): never a test case's input or expected output.
            { Sid: 'ReadProblemStatements', Effect: 'Allow', Action: 's3:GetObject', Resource: gatewayProblemObjects(args.bucketArn) },
            // Names, not contents (how many cases a problem has). Unconditional: S3 answers a GetObject of a
            // missing key (an optional manifest.json, an unknown request id) with 404 only to callers that may
            // list the bucket, 403 AccessDenied to everyone else.
            { Sid: 'ListBucket', Effect: 'Allow', Action: 's3:ListBucket', Resource: args.bucketArn },
            {
              Sid: 'WriteGatewayLogs',
              Effect: 'Allow',
              Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              Resource: pulumi.interpolate`${logGroup.arn}:log-stream:*`,
            },
            { Sid: 'ReadOwnParameters', Effect: 'Allow', Action: ['ssm:GetParameters', 'ssm:GetParameter'], Resource: parameterNames.map((n) => pulumi.interpolate`arn:aws:ssm:${region}:${account}:parameter${n}`) },
            { Sid: 'DecryptSecureStrings', Effect: 'Allow', Action: 'kms:Decrypt', Resource: ssmKey.targetKeyArn, Condition: { StringEquals: { 'kms:ViaService': pulumi.interpolate`ssm.${region}.amazonaws.com` } } },
            ...(args.repositoryArn
              ? [
                  { Sid: 'PullGatewayImage', Effect: 'Allow', Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], Resource: args.repositoryArn },
                  // GetAuthorizationToken has no resource-level permission in IAM.
                  { Sid: 'EcrLogin', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
                ]
              : []),
          ],
        }),
      },
      parent,
    );
    const profile = new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name, tags }, parent);
    this.instanceRoleName = role.name;

    const ami = aws.ssm.getParameterOutput({ name: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' }, parent);
    const userData = pulumi
      .all([args.image, region, args.bucketName, logGroup.name])
      .apply(([image, r, bucket, logGroupName]) => {
        const script = gatewayUserData({ image, region: r, bucket, environment: env, parameters: args.parameters, review, auth, logGroupName });
        return Buffer.from(script).toString('base64');
      });
    const launchTemplate = new aws.ec2.LaunchTemplate(
      `${name}-lt`,
      {
        namePrefix: `${env}-grading-gw-`,
        imageId: ami.value,
        instanceType: args.instanceType,
        iamInstanceProfile: { arn: profile.arn },
        vpcSecurityGroupIds: [args.webSecurityGroupId],
        userData,
        // The gateway container reads instance credentials through IMDSv2: one hop for docker's bridge.
        metadataOptions: { httpTokens: 'required', httpEndpoint: 'enabled', httpPutResponseHopLimit: 2 },
        blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { encrypted: 'true', volumeType: 'gp3', volumeSize: 20, deleteOnTermination: 'true' } }],
        monitoring: { enabled: true },
        tagSpecifications: [{ resourceType: 'instance', tags: { ...tags, Name: `${env}-grading-gateway` } }],
        updateDefaultVersion: true,
        tags,
      },
      parent,
    );
    const asg = new aws.autoscaling.Group(
      `${name}-asg`,
      {
        namePrefix: `${env}-grading-gw-`,
        vpcZoneIdentifiers: args.privateSubnetIds,
        minSize: args.minSize,
        maxSize: args.maxSize,
        desiredCapacity: args.desiredCapacity,
        // The version number itself (not $Latest): a new template version changes the group, which
        // starts the instance refresh below.
        launchTemplate: { id: launchTemplate.id, version: launchTemplate.latestVersion.apply(String) },
        targetGroupArns: [targetGroup.arn],
        healthCheckType: 'ELB',
        healthCheckGracePeriod: 180,
        instanceRefresh: { strategy: 'Rolling', preferences: { minHealthyPercentage: 50 } },
        tags: Object.entries(tags).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
      },
      // The scaling policy owns the instance count after the first deploy.
      { parent: this, ignoreChanges: ['desiredCapacity'] },
    );
    this.autoScalingGroupName = asg.name;
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
      parent,
    );
    this.registerOutputs({ albDnsName: this.albDnsName, autoScalingGroupName: this.autoScalingGroupName });
  }
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
    ...(o.review ? { REVIEW_BASE_URL: o.review.baseUrl, REVIEW_MODEL: o.review.model, REVIEW_API_KEY_PARAM: o.review.apiKeyParameter } : {}),
  };
  return [
    '#!/bin/bash',
    'set -euo pipefail',
    'dnf install -y docker',
    'systemctl enable --now docker',
    registry.includes('.dkr.ecr.')
      ? `aws ecr get-login-password --region ${shellWord(registryRegion)} | docker login --username AWS --password-stdin ${shellWord(registry)}`
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
