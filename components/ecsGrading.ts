/**
 * The grading workers on ECS Fargate: the image (built from worker/Dockerfile into ECR, or a
 * prebuilt one), the cluster, a least-privilege task role, the service in private subnets and two
 * scaling policies: CPU, and queue backlog per running task (so a burst scales out before CPU rises
 * and an idle queue scales in).
 *
 * Each task first runs the database migration (`migrate`, an init container of the same image): it
 * receives the master user's and both tiers' credentials as ECS secrets, read by the task execution
 * role, and creates or updates the tier users and their grants. The worker starts only after it
 * succeeded and reads only its own tier's parameters with its task role.
 */
import * as aws from '@pulumi/aws';
import * as dockerBuild from '@pulumi/docker-build';
import * as pulumi from '@pulumi/pulumi';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { QUEUES } from './brokerXml';
import { tagsFor } from './common';
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
import { JUDGE0_PORT } from './judge0Host';
import { STOMP_SSL_PORT } from './messaging';
import { allowTcpOut, Peer } from './securityGroups';

export const WORKER_HEALTH_PORT = 8080;
/** The init container of every worker task that migrates the database (web/src/db/cli.ts). */
export const MIGRATE_CONTAINER = 'migrate';

export interface ParameterNames {
  endpoint: string;
  username: string;
  password: string;
}

export interface EcsGradingArgs {
  environmentName: string;
  privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The workers' security group (AccessGroups); this component adds its egress rules. */
  workerSecurityGroupId: pulumi.Input<string>;
  brokerSecurityGroupId: pulumi.Input<string>;
  databaseSecurityGroupId: pulumi.Input<string>;
  judge0SecurityGroupId: pulumi.Input<string>;
  bucketName: pulumi.Input<string>;
  bucketArn: pulumi.Input<string>;
  brokerName: string;
  /** ACTIVE_STANDBY_MULTI_AZ brokers report metrics under `<name>-1` and `<name>-2`. */
  brokerActiveStandby?: boolean;
  /** Parameters the worker reads at run time (task role): `db` is the worker tier's database user. */
  parameters: { mq: ParameterNames; db: ParameterNames; judge0: { endpoint: string; authToken: string } };
  /**
   * The migrate init container's credentials (task execution role, as ECS secrets): the master
   * user, and the users it creates for the gateway and the worker (the worker's is `parameters.db`).
   */
  migration: { master: ParameterNames; gateway: ParameterNames };
  /** Prebuilt image; when absent worker/Dockerfile is built and pushed to a new ECR repository. */
  image?: string;
  /** Fargate CPU units and MiB (a valid Fargate combination). */
  cpu: number;
  memory: number;
  desiredCount: number;
  autoscaling: { enabled: boolean; min: number; max: number; cpuTarget: number; backlogPerTask: number };
  /** Gradings per task at once. */
  concurrency: number;
  /** Days. */
  logRetentionDays: number;
}

export class EcsGrading extends pulumi.ComponentResource {
  readonly clusterName: pulumi.Output<string>;
  readonly serviceName: pulumi.Output<string>;
  readonly taskRoleArn: pulumi.Output<string>;
  readonly image: pulumi.Output<string>;
  readonly repositoryUrl?: pulumi.Output<string>;
  readonly repositoryArn?: pulumi.Output<string>;
  readonly logGroupName: pulumi.Output<string>;

  constructor(name: string, args: EcsGradingArgs, opts?: pulumi.ComponentResourceOptions) {
    super('grading:index:EcsGrading', name, {}, opts);
    const env = args.environmentName;
    const tags = tagsFor(env, 'EcsGrading');
    const parent = { parent: this };
    const scope = accountScope(this);

    if (args.image) {
      this.image = pulumi.output(args.image);
    } else {
      const built = this.buildWorkerImage(name, env, tags);
      this.image = built.image;
      this.repositoryUrl = built.repository.repositoryUrl;
      this.repositoryArn = built.repository.arn;
    }

    const clusterSettings = [{ name: 'containerInsights', value: 'enabled' }];
    const cluster = new aws.ecs.Cluster(`${name}-cluster`, { name: `${env}-grading`, settings: clusterSettings, tags }, parent);
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/ecs/${env}/grading-worker`, retentionInDays: args.logRetentionDays, tags },
      parent,
    );
    const migrationSecrets = migrationSecretParameters(args.migration.master, args.migration.gateway, args.parameters.db);
    const executionRole = this.createExecutionRole(name, scope, migrationSecrets, tags);
    const taskRole = this.createTaskRole(name, args, scope, tags);
    this.taskRoleArn = taskRole.arn;
    this.allowWorkerEgress(name, args, tags);

    const containers = this.containerDefinitions(args, { scope, logGroup, migrationSecrets });
    const taskDefinition = this.createTaskDefinition(name, args, { containers, executionRole, taskRole, tags });
    const service = this.createService(name, args, { cluster, taskDefinition, tags });
    this.clusterName = cluster.name;
    this.serviceName = service.name;
    this.logGroupName = logGroup.name;
    if (args.autoscaling.enabled) this.scaleOnCpuAndBacklog(name, args, { cluster, service, tags });

    this.registerOutputs({ clusterName: this.clusterName, serviceName: this.serviceName, image: this.image });
  }

  /**
   * worker/Dockerfile built and pushed to a new ECR repository, referenced by digest so a new
   * image rolls the service.
   */
  private buildWorkerImage(name: string, env: string, tags: Record<string, string>) {
    const parent = { parent: this };
    const repository = new aws.ecr.Repository(
      `${name}-repo`,
      // MUTABLE: docker-build pushes the content-hash tag again whenever its build context changes
      // (IMMUTABLE refuses that second push); what runs is pinned by digest, never by tag.
      {
        name: `${env}-grading-worker`,
        imageTagMutability: 'MUTABLE',
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfigurations: [{ encryptionType: 'AES256' }],
        forceDelete: false,
        tags,
      },
      parent,
    );
    const keepLast20 = {
      rulePriority: 1,
      description: 'keep the last 20 images',
      selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 20 },
      action: { type: 'expire' },
    };
    new aws.ecr.LifecyclePolicy(
      `${name}-repo-lifecycle`,
      { repository: repository.name, policy: JSON.stringify({ rules: [keepLast20] }) },
      parent,
    );
    const auth = aws.ecr.getAuthorizationTokenOutput({ registryId: repository.registryId }, parent);
    const built = new dockerBuild.Image(
      `${name}-image`,
      {
        context: { location: path.join(__dirname, '..') },
        dockerfile: { location: path.join(__dirname, '..', 'worker', 'Dockerfile') },
        platforms: ['linux/amd64'],
        push: true,
        // One tag per content of what goes into the image; the task definition uses the digest.
        tags: [pulumi.interpolate`${repository.repositoryUrl}:${imageContentHash()}`],
        registries: [{ address: repository.repositoryUrl, username: auth.userName, password: auth.password }],
      },
      parent,
    );
    return { image: built.ref, repository };
  }

  /** Pulls the image, writes logs, and reads exactly the parameters ECS injects into the migrate container. */
  private createExecutionRole(name: string, scope: AccountScope, migrationSecrets: Record<string, string>, tags: Record<string, string>) {
    const role = serviceRole(
      `${name}-execution`,
      {
        service: 'ecs-tasks.amazonaws.com',
        description: 'pull the worker image and write its logs',
        tags,
        managedPolicies: { [`${name}-execution-managed`]: MANAGED_POLICIES.ecsTaskExecution },
      },
      this,
    );
    const parameterArns = [...new Set(Object.values(migrationSecrets))].map((n) => parameterArn(scope, n));
    const policy = executionSecretsPolicy({ region: scope.region, parameterArns, ssmKeyArn: ssmKeyArn(this) });
    new aws.iam.RolePolicy(`${name}-execution-secrets`, { role: role.id, policy: pulumi.jsonStringify(policy) }, { parent: this });
    return role;
  }

  /** What the worker may do at run time: its own parameters, the SSM key, the bucket's prefixes. */
  private createTaskRole(name: string, args: EcsGradingArgs, scope: AccountScope, tags: Record<string, string>) {
    const role = serviceRole(
      `${name}-task`,
      { service: 'ecs-tasks.amazonaws.com', description: 'what the grading worker may do', tags },
      this,
    );
    const { mq, db, judge0 } = args.parameters;
    const parameterNames = [
      mq.endpoint,
      mq.username,
      mq.password,
      db.endpoint,
      db.username,
      db.password,
      judge0.endpoint,
      judge0.authToken,
    ];
    const policy = workerTaskPolicy({ ...scope, parameterNames, ssmKeyArn: ssmKeyArn(this), bucketArn: args.bucketArn });
    new aws.iam.RolePolicy(`${name}-task-policy`, { role: role.id, policy: pulumi.jsonStringify(policy) }, { parent: this });
    return role;
  }

  /** Egress only to what the worker talks to; nothing may connect to it. */
  private allowWorkerEgress(name: string, args: EcsGradingArgs, tags: Record<string, string>): void {
    const egress = (id: string, peer: Peer, port: number, description: string) =>
      allowTcpOut(`${name}-egress-${id}`, { securityGroupId: args.workerSecurityGroupId, peer, port, description, tags }, this);
    egress('https', { cidrIpv4: '0.0.0.0/0' }, 443, 'AWS APIs (S3 via the gateway endpoint, SSM, ECR, logs)');
    egress('broker', { referencedSecurityGroupId: args.brokerSecurityGroupId }, STOMP_SSL_PORT, 'Amazon MQ STOMP+SSL');
    egress('database', { referencedSecurityGroupId: args.databaseSecurityGroupId }, MYSQL_PORT, 'RDS MySQL');
    egress('judge0', { referencedSecurityGroupId: args.judge0SecurityGroupId }, JUDGE0_PORT, 'Judge0 API');
  }

  /** The migrate init container, then the worker once it succeeded. */
  private containerDefinitions(
    args: EcsGradingArgs,
    parts: { scope: AccountScope; logGroup: aws.cloudwatch.LogGroup; migrationSecrets: Record<string, string> },
  ): pulumi.Output<string> {
    const env = args.environmentName;
    const region = parts.scope.region;
    const logOptions = (prefix: string) => ({
      logDriver: 'awslogs',
      options: { 'awslogs-group': parts.logGroup.name, 'awslogs-region': region, 'awslogs-stream-prefix': prefix },
    });
    const probe = `fetch('http://127.0.0.1:${WORKER_HEALTH_PORT}/health/live').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))`;
    return pulumi.jsonStringify([
      {
        name: MIGRATE_CONTAINER,
        image: this.image,
        // Runs to completion before the worker starts; a failed migration stops the task (the worker's dependsOn).
        essential: false,
        user: 'node',
        command: ['node', 'dist/web/src/db/cli.js', 'migrate'],
        environment: [
          { name: 'ENVIRONMENT', value: env },
          { name: 'AWS_REGION', value: region },
          { name: 'DB_NAME', value: 'grading' },
        ],
        secrets: Object.entries(parts.migrationSecrets).map(([variable, parameter]) => ({
          name: variable,
          valueFrom: parameterArn(parts.scope, parameter),
        })),
        logConfiguration: logOptions('migrate'),
        readonlyRootFilesystem: true,
      },
      {
        name: 'worker',
        image: this.image,
        essential: true,
        user: 'node',
        portMappings: [{ containerPort: WORKER_HEALTH_PORT, protocol: 'tcp' }],
        environment: workerEnvironment({
          env,
          region,
          bucketName: args.bucketName,
          parameters: args.parameters,
          concurrency: args.concurrency,
        }),
        healthCheck: { command: ['CMD-SHELL', `node -e "${probe}"`], interval: 30, timeout: 5, retries: 3, startPeriod: 60 },
        logConfiguration: logOptions('worker'),
        dependsOn: [{ containerName: MIGRATE_CONTAINER, condition: 'SUCCESS' }],
        // Fargate's maximum: in-flight gradings get this long after SIGTERM (the worker uses SHUTDOWN_GRACE_MS of it).
        stopTimeout: 120,
        readonlyRootFilesystem: false,
      },
    ]);
  }

  /** A Fargate x86_64 task of the configured size running the migrate and worker containers. */
  private createTaskDefinition(
    name: string,
    args: EcsGradingArgs,
    parts: { containers: pulumi.Output<string>; executionRole: aws.iam.Role; taskRole: aws.iam.Role; tags: Record<string, string> },
  ): aws.ecs.TaskDefinition {
    return new aws.ecs.TaskDefinition(
      `${name}-task-def`,
      {
        family: `${args.environmentName}-grading-worker`,
        cpu: String(args.cpu),
        memory: String(args.memory),
        networkMode: 'awsvpc',
        requiresCompatibilities: ['FARGATE'],
        runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: 'X86_64' },
        executionRoleArn: parts.executionRole.arn,
        taskRoleArn: parts.taskRole.arn,
        containerDefinitions: parts.containers,
        tags: parts.tags,
      },
      { parent: this },
    );
  }

  /** The Fargate service in private subnets, rolled back when a deployment does not stabilise. */
  private createService(
    name: string,
    args: EcsGradingArgs,
    parts: { cluster: aws.ecs.Cluster; taskDefinition: aws.ecs.TaskDefinition; tags: Record<string, string> },
  ): aws.ecs.Service {
    return new aws.ecs.Service(
      `${name}-service`,
      {
        name: `${args.environmentName}-grading-worker`,
        cluster: parts.cluster.arn,
        taskDefinition: parts.taskDefinition.arn,
        desiredCount: args.desiredCount,
        launchType: 'FARGATE',
        networkConfiguration: { subnets: args.privateSubnetIds, securityGroups: [args.workerSecurityGroupId], assignPublicIp: false },
        deploymentCircuitBreaker: { enable: true, rollback: true },
        deploymentMinimumHealthyPercent: 100,
        deploymentMaximumPercent: 200,
        propagateTags: 'SERVICE',
        enableExecuteCommand: false,
        tags: parts.tags,
      },
      // Autoscaling owns the task count after the first deploy.
      { parent: this, ignoreChanges: args.autoscaling.enabled ? ['desiredCount'] : [] },
    );
  }

  /** Target tracking on average CPU and on queue backlog per running task. */
  private scaleOnCpuAndBacklog(
    name: string,
    args: EcsGradingArgs,
    parts: { cluster: aws.ecs.Cluster; service: aws.ecs.Service; tags: Record<string, string> },
  ): void {
    const parent = { parent: this };
    const scaling = args.autoscaling;
    const { cluster, service } = parts;
    const target = new aws.appautoscaling.Target(
      `${name}-scaling-target`,
      {
        serviceNamespace: 'ecs',
        scalableDimension: 'ecs:service:DesiredCount',
        resourceId: pulumi.interpolate`service/${cluster.name}/${service.name}`,
        minCapacity: scaling.min,
        maxCapacity: scaling.max,
        tags: parts.tags,
      },
      parent,
    );
    const targetTracking = (id: string, configuration: aws.types.input.appautoscaling.PolicyTargetTrackingScalingPolicyConfiguration) =>
      new aws.appautoscaling.Policy(
        `${name}-${id}`,
        {
          policyType: 'TargetTrackingScaling',
          serviceNamespace: target.serviceNamespace,
          scalableDimension: target.scalableDimension,
          resourceId: target.resourceId,
          targetTrackingScalingPolicyConfiguration: { ...configuration, scaleInCooldown: 300, scaleOutCooldown: 60 },
        },
        parent,
      );
    targetTracking('scale-cpu', {
      predefinedMetricSpecification: { predefinedMetricType: 'ECSServiceAverageCPUUtilization' },
      targetValue: scaling.cpuTarget,
    });
    const metrics = backlogPerTaskMetrics(args.brokerName, !!args.brokerActiveStandby, cluster.name, service.name);
    targetTracking('scale-backlog', { customizedMetricSpecification: { metrics }, targetValue: scaling.backlogPerTask });
  }
}

/** Everything worker/Dockerfile copies from the build context (a test keeps the two in step). */
export const IMAGE_SOURCES = {
  files: ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'worker/Dockerfile'],
  dirs: ['core/src', 'worker/src', 'web/src', 'web/public'],
};

/** A hash of everything the Dockerfile copies, so an unchanged worker keeps its image tag. */
export function imageContentHash(root = path.join(__dirname, '..')): string {
  const hash = createHash('sha256');
  const add = (file: string) => hash.update(path.relative(root, file)).update(fs.readFileSync(file));
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else add(full);
    }
  };
  for (const file of IMAGE_SOURCES.files) add(path.join(root, file));
  for (const dir of IMAGE_SOURCES.dirs) walk(path.join(root, dir));
  return hash.digest('hex').slice(0, 16);
}

/** The worker's env (docs/worker.md): SSM parameter names, never values. */
export function workerEnvironment(o: {
  env: string;
  region: pulumi.Input<string>;
  bucketName: pulumi.Input<string>;
  parameters: EcsGradingArgs['parameters'];
  concurrency: number;
}) {
  return [
    { name: 'ENVIRONMENT', value: o.env },
    { name: 'AWS_REGION', value: o.region },
    { name: 'GRADING_BUCKET', value: o.bucketName },
    { name: 'EXECUTOR', value: 'judge0' },
    { name: 'MQ_ENDPOINT_PARAM', value: o.parameters.mq.endpoint },
    { name: 'MQ_USERNAME_PARAM', value: o.parameters.mq.username },
    { name: 'MQ_PASSWORD_PARAM', value: o.parameters.mq.password },
    { name: 'DB_ENDPOINT_PARAM', value: o.parameters.db.endpoint },
    { name: 'DB_USERNAME_PARAM', value: o.parameters.db.username },
    { name: 'DB_PASSWORD_PARAM', value: o.parameters.db.password },
    { name: 'DB_NAME', value: 'grading' },
    { name: 'JUDGE0_ENDPOINT_PARAM', value: o.parameters.judge0.endpoint },
    { name: 'JUDGE0_AUTH_TOKEN_PARAM', value: o.parameters.judge0.authToken },
    { name: 'QUEUE_NAME', value: QUEUES.requests },
    { name: 'PRIORITY_QUEUE_NAME', value: QUEUES.priority },
    { name: 'RESULTS_QUEUE_NAME', value: QUEUES.results },
    { name: 'DLQ_NAME', value: QUEUES.dlq },
    { name: 'WORKER_CONCURRENCY', value: String(o.concurrency) },
    { name: 'HEALTH_PORT', value: String(WORKER_HEALTH_PORT) },
    { name: 'SHUTDOWN_GRACE_MS', value: '100000' },
  ];
}

/**
 * The migrate container's env var -> SSM parameter (web/src/db/cli.ts): the endpoint (host:port),
 * the master user and the two tier users it creates.
 */
export function migrationSecretParameters(master: ParameterNames, gateway: ParameterNames, worker: ParameterNames): Record<string, string> {
  return {
    DB_HOST: master.endpoint,
    DB_MASTER_USERNAME: master.username,
    DB_MASTER_PASSWORD: master.password,
    GATEWAY_DB_USERNAME: gateway.username,
    GATEWAY_DB_PASSWORD: gateway.password,
    WORKER_DB_USERNAME: worker.username,
    WORKER_DB_PASSWORD: worker.password,
  };
}

/** Execution role: read exactly the parameters ECS injects as container secrets, decrypt them with the SSM key. */
export function executionSecretsPolicy(o: {
  region: pulumi.Input<string>;
  parameterArns: pulumi.Input<string>[];
  ssmKeyArn: pulumi.Input<string>;
}) {
  return {
    Version: '2012-10-17',
    Statement: [
      readParametersStatement('ReadContainerSecrets', 'ssm:GetParameters', o.parameterArns),
      decryptThroughSsmStatement('DecryptContainerSecrets', o.region, o.ssmKeyArn),
    ],
  };
}

/** Task role policy: exactly the named parameters, the SSM key, and the bucket's prefixes. */
export function workerTaskPolicy(
  o: AccountScope & { parameterNames: string[]; ssmKeyArn: pulumi.Input<string>; bucketArn: pulumi.Input<string> },
) {
  const objects = (...prefixes: string[]) => prefixes.map((prefix) => pulumi.interpolate`${o.bucketArn}/${prefix}*`);
  return {
    Version: '2012-10-17',
    Statement: [
      readParametersStatement(
        'ReadOwnParameters',
        ['ssm:GetParameters', 'ssm:GetParameter'],
        o.parameterNames.map((n) => parameterArn(o, n)),
      ),
      decryptThroughSsmStatement('DecryptSecureStrings', o.region, o.ssmKeyArn),
      { Sid: 'ReadSubmissionsAndTestCases', Effect: 'Allow', Action: 's3:GetObject', Resource: objects('submissions/', 'problems/') },
      // Unconditional: S3 answers a GetObject of a missing key with 404 only to callers that may list the
      // bucket, 403 AccessDenied to everyone else (a missing submission would look like a permissions fault).
      { Sid: 'ListBucket', Effect: 'Allow', Action: 's3:ListBucket', Resource: o.bucketArn },
      { Sid: 'WriteResults', Effect: 'Allow', Action: 's3:PutObject', Resource: objects('results/', 'temp/') },
    ],
  };
}

/**
 * Backlog per running task for target tracking: QueueSize of grading-requests (summed over both
 * brokers of an active/standby pair, only one of which reports) over RunningTaskCount, treating no
 * running task as one so an idle queue reads 0 and a queue with no workers still scales out.
 */
export function backlogPerTaskMetrics(
  brokerName: string,
  activeStandby: boolean,
  clusterName: pulumi.Input<string>,
  serviceName: pulumi.Input<string>,
) {
  const queueSize = (id: string, broker: string) => ({
    id,
    metricStat: {
      metric: {
        namespace: 'AWS/AmazonMQ',
        metricName: 'QueueSize',
        dimensions: [
          { name: 'Broker', value: broker },
          { name: 'Queue', value: QUEUES.requests },
        ],
      },
      stat: 'Average',
    },
    returnData: false,
  });
  const metrics = [
    queueSize('q1', `${brokerName}-1`),
    ...(activeStandby ? [queueSize('q2', `${brokerName}-2`)] : []),
    {
      id: 'tasks',
      metricStat: {
        metric: {
          namespace: 'ECS/ContainerInsights',
          metricName: 'RunningTaskCount',
          dimensions: [
            { name: 'ClusterName', value: clusterName },
            { name: 'ServiceName', value: serviceName },
          ],
        },
        stat: 'Average',
      },
      returnData: false,
    },
    {
      id: 'backlogPerTask',
      label: 'grading-requests messages per running task',
      expression: activeStandby
        ? '(FILL(q1, 0) + FILL(q2, 0)) / IF(FILL(tasks, 0) < 1, 1, tasks)'
        : 'FILL(q1, 0) / IF(FILL(tasks, 0) < 1, 1, tasks)',
      returnData: true,
    },
  ];
  return metrics;
}
