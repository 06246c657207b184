import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EcsGrading, IMAGE_SOURCES } from '../../components/ecsGrading';
import { DEFAULTS } from '../../components/config';
import { ecsGradingDefaults } from './configDefaults';
import { ofType, one, settled, useMocks } from './harness';

const parameters = {
  mq: { endpoint: '/staging/mq/broker-endpoint', username: '/staging/mq/username', password: '/staging/mq/password' },
  db: { endpoint: '/staging/db/endpoint', username: '/staging/db/worker/username', password: '/staging/db/worker/password' },
  judge0: { endpoint: '/staging/judge0/endpoint', authToken: '/staging/judge0/auth-token' },
};
const migration = {
  master: { endpoint: '/staging/db/endpoint', username: '/staging/db/username', password: '/staging/db/password' },
  gateway: { endpoint: '/staging/db/endpoint', username: '/staging/db/gateway/username', password: '/staging/db/gateway/password' },
};
const arn = (n: string) => `arn:aws:ssm:us-east-1:123456789012:parameter${n}`;
type Container = {
  name: string;
  essential: boolean;
  command?: string[];
  environment: Array<{ name: string; value: string }>;
  secrets?: Array<{ name: string; valueFrom: string }>;
  dependsOn?: unknown[];
};
const containersOf = () => JSON.parse(one('aws:ecs/taskDefinition:TaskDefinition').inputs.containerDefinitions) as Container[];
const rolePolicy = (suffix: string) => JSON.parse(one('aws:iam/rolePolicy:RolePolicy', suffix).inputs.policy);
const base = {
  environmentName: 'staging',
  privateSubnetIds: ['subnet-a', 'subnet-b'],
  workerSecurityGroupId: 'sg-worker',
  brokerSecurityGroupId: 'sg-broker',
  databaseSecurityGroupId: 'sg-db',
  judge0SecurityGroupId: 'sg-judge0',
  bucketName: 'staging-grading-files',
  bucketArn: 'arn:aws:s3:::staging-grading-files',
  brokerName: 'staging-grading',
  parameters,
  migration,
  image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/grader@sha256:' + 'a'.repeat(64),
  ...ecsGradingDefaults,
  autoscaling: { enabled: true, min: 1, max: 10, cpuTarget: 60, backlogPerTask: 5 },
};

describe('EcsGrading', () => {
  beforeEach(() => useMocks());

  it('grants the task role exactly its parameters, the SSM key and the bucket prefixes, with no wildcard resource', async () => {
    new EcsGrading('w', base);
    await settled();
    const policy = rolePolicy('task-policy');
    const bySid = Object.fromEntries(policy.Statement.map((s: { Sid: string }) => [s.Sid, s]));
    assert.deepEqual(bySid.ReadOwnParameters.Action, ['ssm:GetParameters', 'ssm:GetParameter']);
    assert.deepEqual(
      bySid.ReadOwnParameters.Resource.sort(),
      [...Object.values(parameters.mq), ...Object.values(parameters.db), ...Object.values(parameters.judge0)]
        .map((n) => `arn:aws:ssm:us-east-1:123456789012:parameter${n}`)
        .sort(),
    );
    assert.equal(bySid.DecryptSecureStrings.Resource, 'arn:aws:kms:us-east-1:123456789012:key/ssm-default');
    assert.deepEqual(bySid.DecryptSecureStrings.Condition, { StringEquals: { 'kms:ViaService': 'ssm.us-east-1.amazonaws.com' } });
    assert.deepEqual(bySid.ReadSubmissionsAndTestCases.Resource, [
      'arn:aws:s3:::staging-grading-files/submissions/*',
      'arn:aws:s3:::staging-grading-files/problems/*',
    ]);
    assert.deepEqual(bySid.WriteResults, {
      Sid: 'WriteResults',
      Effect: 'Allow',
      Action: 's3:PutObject',
      Resource: ['arn:aws:s3:::staging-grading-files/results/*', 'arn:aws:s3:::staging-grading-files/temp/*'],
    });
    // Without a condition: a missing key must read 404 (NoSuchKey), not 403, to a caller that may list.
    assert.deepEqual(bySid.ListBucket, {
      Sid: 'ListBucket',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: 'arn:aws:s3:::staging-grading-files',
    });
    for (const statement of policy.Statement) for (const r of [statement.Resource].flat()) assert.notEqual(r, '*');
  });

  it('runs Fargate tasks in private subnets without public IPs, with health check, logs and a long stop timeout', async () => {
    new EcsGrading('w', base);
    await settled();
    const service = one('aws:ecs/service:Service').inputs;
    assert.deepEqual(service.networkConfiguration, {
      subnets: ['subnet-a', 'subnet-b'],
      securityGroups: ['sg-worker'],
      assignPublicIp: false,
    });
    assert.equal(service.launchType, 'FARGATE');
    const taskDef = one('aws:ecs/taskDefinition:TaskDefinition').inputs;
    assert.deepEqual([taskDef.cpu, taskDef.memory], [String(DEFAULTS.ecsTaskCpu), String(DEFAULTS.ecsTaskMemory)]);
    const container = JSON.parse(taskDef.containerDefinitions).find((c: { name: string }) => c.name === 'worker');
    assert.equal(container.image, base.image);
    assert.equal(container.stopTimeout, 120);
    assert.equal(container.logConfiguration.logDriver, 'awslogs');
    assert.match(
      container.healthCheck.command[1],
      /127\.0\.0\.1:8080\/health\/live'/,
      'liveness: a broker failover must not get every task replaced',
    );
    const env = Object.fromEntries(container.environment.map((e: { name: string; value: string }) => [e.name, e.value]));
    assert.equal(env.MQ_ENDPOINT_PARAM, '/staging/mq/broker-endpoint');
    assert.equal(env.DB_PASSWORD_PARAM, '/staging/db/worker/password');
    assert.equal(env.DB_USERNAME_PARAM, '/staging/db/worker/username');
    assert.equal(env.JUDGE0_AUTH_TOKEN_PARAM, '/staging/judge0/auth-token');
    assert.equal(env.EXECUTOR, 'judge0');
    assert.ok(Number(env.SHUTDOWN_GRACE_MS) < 120_000);
    assert.ok(!('MQ_PASSWORD' in env) && !('DB_PASSWORD' in env), 'no secret values in the task definition');
    assert.equal(one('aws:ecs/cluster:Cluster').inputs.settings[0].value, 'enabled');
    assert.equal(one('aws:cloudwatch/logGroup:LogGroup').inputs.retentionInDays, DEFAULTS.logRetentionDays);
    assert.equal(env.WORKER_CONCURRENCY, String(DEFAULTS.workerConcurrency));
  });

  it('scales on CPU and on queue backlog per running task', async () => {
    new EcsGrading('w', base);
    await settled();
    const target = one('aws:appautoscaling/target:Target').inputs;
    assert.deepEqual([target.minCapacity, target.maxCapacity, target.scalableDimension], [1, 10, 'ecs:service:DesiredCount']);
    const policies = ofType('aws:appautoscaling/policy:Policy').map((p) => p.inputs.targetTrackingScalingPolicyConfiguration);
    const cpu = policies.find((p) => p.predefinedMetricSpecification)!;
    assert.equal(cpu.predefinedMetricSpecification.predefinedMetricType, 'ECSServiceAverageCPUUtilization');
    assert.equal(cpu.targetValue, DEFAULTS.ecsCpuTargetValue);
    const backlog = policies.find((p) => p.customizedMetricSpecification)!;
    assert.equal(backlog.targetValue, DEFAULTS.ecsBacklogTargetPerTask);
    const metrics = backlog.customizedMetricSpecification.metrics;
    const q1 = metrics.find((m: { id: string }) => m.id === 'q1');
    assert.deepEqual(q1.metricStat.metric, {
      namespace: 'AWS/AmazonMQ',
      metricName: 'QueueSize',
      dimensions: [
        { name: 'Broker', value: 'staging-grading-1' },
        { name: 'Queue', value: 'grading-requests' },
      ],
    });
    const tasks = metrics.find((m: { id: string }) => m.id === 'tasks');
    assert.equal(tasks.metricStat.metric.namespace, 'ECS/ContainerInsights');
    assert.equal(tasks.metricStat.metric.metricName, 'RunningTaskCount');
    const expression = metrics.find((m: { returnData: boolean }) => m.returnData);
    assert.equal(expression.expression, 'FILL(q1, 0) / IF(FILL(tasks, 0) < 1, 1, tasks)');
    assert.deepEqual(one('aws:ecs/service:Service').inputs.desiredCount, DEFAULTS.ecsDesiredCount);
  });

  it('sums both brokers of an active/standby pair', async () => {
    new EcsGrading('w', { ...base, brokerActiveStandby: true });
    await settled();
    const backlog = ofType('aws:appautoscaling/policy:Policy')
      .map((p) => p.inputs.targetTrackingScalingPolicyConfiguration)
      .find((p) => p.customizedMetricSpecification)!;
    const ids = backlog.customizedMetricSpecification.metrics.map((m: { id: string }) => m.id);
    assert.deepEqual(ids, ['q1', 'q2', 'tasks', 'backlogPerTask']);
  });

  it('opens egress only to AWS APIs, the broker, the database and Judge0', async () => {
    new EcsGrading('w', base);
    await settled();
    const rules = ofType('aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule').map((r) => [
      r.inputs.fromPort,
      r.inputs.referencedSecurityGroupId ?? r.inputs.cidrIpv4,
    ]);
    assert.deepEqual(
      rules.sort(),
      [
        [2358, 'sg-judge0'],
        [3306, 'sg-db'],
        [443, '0.0.0.0/0'],
        [61614, 'sg-broker'],
      ].sort(),
    );
    assert.equal(ofType('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule').length, 0);
  });

  it('builds worker/Dockerfile into a scanned ECR repository that takes a re-push of a tag, when no image is given', async () => {
    new EcsGrading('w', { ...base, image: undefined });
    await settled();
    const repo = one('aws:ecr/repository:Repository').inputs;
    // docker-build pushes the same content-hash tag again when its context changes: IMMUTABLE refuses that.
    assert.equal(repo.imageTagMutability, 'MUTABLE');
    assert.equal(repo.imageScanningConfiguration.scanOnPush, true);
    const image = one('docker-build:index:Image').inputs;
    assert.match(image.dockerfile.location, /worker\/Dockerfile$/);
    assert.equal(image.push, true);
    assert.match(image.tags[0], /:[0-9a-f]{16}$/);
  });

  it('migrates the database first: a migrate init container with the master and tier users as ECS secrets', async () => {
    new EcsGrading('w', base);
    await settled();
    const [migrate, worker] = containersOf();
    assert.equal(migrate.name, 'migrate');
    assert.equal(migrate.essential, false);
    assert.deepEqual(migrate.command, ['node', 'dist/web/src/db/cli.js', 'migrate']);
    assert.equal((migrate as unknown as { image: string }).image, base.image, 'the worker image');
    assert.deepEqual(Object.fromEntries((migrate.secrets ?? []).map((s) => [s.name, s.valueFrom])), {
      DB_HOST: arn('/staging/db/endpoint'),
      DB_MASTER_USERNAME: arn('/staging/db/username'),
      DB_MASTER_PASSWORD: arn('/staging/db/password'),
      GATEWAY_DB_USERNAME: arn('/staging/db/gateway/username'),
      GATEWAY_DB_PASSWORD: arn('/staging/db/gateway/password'),
      WORKER_DB_USERNAME: arn('/staging/db/worker/username'),
      WORKER_DB_PASSWORD: arn('/staging/db/worker/password'),
    });
    const migrateEnv = Object.fromEntries(migrate.environment.map((e) => [e.name, e.value]));
    assert.equal(migrateEnv.DB_NAME, 'grading');
    assert.ok(!('DB_TLS_CA' in migrateEnv), 'TLS with the RDS bundle');
    assert.ok(!Object.keys(migrateEnv).some((k) => /PASSWORD|USERNAME/.test(k)), 'credentials only as secrets');
    // The image has dist/web/src/db/cli.js: worker/Dockerfile builds web/src with tsconfig.build.json.
    assert.ok(IMAGE_SOURCES.dirs.includes('web/src') && fs.existsSync(path.join(__dirname, '../../web/src/db/cli.ts')));
    assert.ok(JSON.parse(fs.readFileSync(path.join(__dirname, '../../tsconfig.build.json'), 'utf8')).include.includes('web/src/**/*.ts'));
    assert.match(fs.readFileSync(path.join(__dirname, '../../worker/Dockerfile'), 'utf8'), /^COPY web\/src web\/src$/m);
    assert.equal(worker.name, 'worker');
    assert.deepEqual(worker.dependsOn, [{ containerName: 'migrate', condition: 'SUCCESS' }]);
    assert.equal(worker.secrets, undefined, 'the worker reads its own parameters with its task role');
  });

  it('lets the execution role read exactly the migrate secrets, and the task role no master credential', async () => {
    new EcsGrading('w', base);
    await settled();
    const execution = Object.fromEntries(rolePolicy('execution-secrets').Statement.map((s: { Sid: string }) => [s.Sid, s]));
    const secrets = containersOf()
      .flatMap((c) => c.secrets ?? [])
      .map((s) => s.valueFrom);
    assert.deepEqual([...execution.ReadContainerSecrets.Resource].sort(), [...new Set(secrets)].sort());
    assert.equal(execution.ReadContainerSecrets.Action, 'ssm:GetParameters');
    assert.equal(execution.DecryptContainerSecrets.Resource, 'arn:aws:kms:us-east-1:123456789012:key/ssm-default');
    assert.deepEqual(execution.DecryptContainerSecrets.Condition, { StringEquals: { 'kms:ViaService': 'ssm.us-east-1.amazonaws.com' } });
    const taskReads = rolePolicy('task-policy').Statement.find((s: { Sid: string }) => s.Sid === 'ReadOwnParameters').Resource as string[];
    for (const master of [migration.master.username, migration.master.password, ...Object.values(migration.gateway).slice(1)]) {
      assert.ok(!taskReads.includes(arn(master)), `the worker's task role cannot read ${master}`);
    }
  });
});
