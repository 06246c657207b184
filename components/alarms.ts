/**
 * What on-call hears about: an SNS topic (email per alarmEmails), an alarm for each way the system
 * breaks, every alarm with actions to the topic (alarm and recovery) and a description that says
 * what it means and links its section of docs/runbook.md, and a dashboard of the same metrics plus
 * the worker's own (graded per verdict, latency, executor health).
 *
 * - The topic is encrypted with a customer managed KMS key whose policy lets CloudWatch use it:
 *   CloudWatch cannot publish to a topic under the AWS managed alias/aws/sns key (its policy cannot
 *   name cloudwatch.amazonaws.com), and an unencrypted topic would carry alarm text in the clear.
 * - Queue alarms read both brokers of an active/standby pair (`<name>-1`, `<name>-2`) with metric
 *   math: only the active one reports, and after a failover that is -2. FILL(m, 0) stands in for
 *   the silent one.
 * - The DLQ alarm pages on arrivals (EnqueueCount per minute > 0), so each new dead letter pages
 *   again instead of one alarm that stays red until someone drains the queue.
 * - With a minimum of 0 worker tasks (scale to zero), "no consumers" only pages while requests
 *   wait, and there is no tasks-below-minimum alarm.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { METRIC_NAMESPACE } from '../worker/src/metrics';
import { QUEUES } from './brokerXml';
import { tagsFor } from './common';

/** The worker's verdicts, one dashboard line each. */
const VERDICTS = ['AC', 'WA', 'TLE', 'MLE', 'RE', 'CE', 'OLE', 'IE', 'none'];

export interface AlarmsArgs {
  environmentName: string;
  alarmEmails: string[];
  brokerName: string;
  brokerActiveStandby: boolean;
  clusterName: pulumi.Input<string>;
  serviceName: pulumi.Input<string>;
  /** The fewest worker tasks that should run (autoscaling minimum); 0 = scale to zero. */
  minRunningTasks: number;
  albArnSuffix: pulumi.Input<string>;
  targetGroupArnSuffix: pulumi.Input<string>;
  judge0InstanceIds: pulumi.Input<string>[];
  databaseIdentifier: pulumi.Input<string>;
  /** Queued grading requests (both request queues) that page on-call. */
  queueBacklogThreshold: number;
  /** p99 of the worker's grading time (ms, per 5 minutes) that pages. */
  latencyP99ThresholdMs: number;
  /** Broker store usage (% of the persistent store limit) that pages. */
  storeUsagePercentThreshold: number;
  /** docs/runbook.md as on-call can open it (e.g. on GitHub, or the repository path). */
  runbookBaseUrl: string;
}

type Dimensions = Record<string, pulumi.Input<string>>;

/** A spec's metric period and how many periods must breach, unless it says otherwise (not stack settings). */
export const DEFAULT_PERIOD_SECONDS = 60;
export const DEFAULT_EVALUATION_PERIODS = 5;

/** One metric of an alarm's math. */
export interface MetricRef {
  id: string;
  namespace: string;
  metricName: string;
  dimensions: Dimensions;
  stat: string;
}

export interface AlarmSpec {
  id: string;
  /** Anchor of its section in docs/runbook.md. */
  runbook: string;
  /** What it means, for the person paged. */
  meaning: string;
  /** A single metric ... */
  metric?: MetricRef;
  /** ... or metric math over several (both brokers). */
  math?: { expression: string; label: string; metrics: MetricRef[] };
  comparison: 'GreaterThanThreshold' | 'GreaterThanOrEqualToThreshold' | 'LessThanThreshold';
  threshold: number;
  /** Default DEFAULT_PERIOD_SECONDS. */
  periodSeconds?: number;
  /** Default DEFAULT_EVALUATION_PERIODS. */
  evaluationPeriods?: number;
  treatMissingData: 'breaching' | 'notBreaching' | 'missing' | 'ignore';
}

export class Alarms extends pulumi.ComponentResource {
  readonly topicArn: pulumi.Output<string>;
  readonly alarmNames: pulumi.Output<string>[] = [];
  readonly dashboardName: pulumi.Output<string>;

  constructor(name: string, args: AlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('grading:index:Alarms', name, {}, opts);
    const env = args.environmentName;
    const tags = tagsFor(env, 'Alarms');

    const topic = this.createTopic(name, env, tags);
    this.subscribeEmails(name, topic, args.alarmEmails);
    this.topicArn = topic.arn;
    const specs = alarmSpecs(args);
    this.createAlarms(name, args, { specs, topic, tags });
    this.dashboardName = this.createDashboard(name, args, specs).dashboardName;
    this.registerOutputs({ topicArn: this.topicArn, dashboardName: this.dashboardName });
  }

  /** One email subscription per address (each confirms by mail before it is paged). */
  private subscribeEmails(name: string, topic: aws.sns.Topic, emails: string[]): void {
    emails.forEach(
      (email, i) =>
        new aws.sns.TopicSubscription(`${name}-email-${i}`, { topic: topic.arn, protocol: 'email', endpoint: email }, { parent: this }),
    );
  }

  /** A MetricAlarm per spec, notifying the topic on alarm and on recovery. */
  private createAlarms(
    name: string,
    args: AlarmsArgs,
    parts: { specs: AlarmSpec[]; topic: aws.sns.Topic; tags: Record<string, string> },
  ): void {
    const { topic, tags } = parts;
    for (const spec of parts.specs) {
      const alarm = new aws.cloudwatch.MetricAlarm(
        `${name}-${spec.id}`,
        {
          name: `${args.environmentName}-grading-${spec.id}`,
          ...alarmProperties(spec, args.runbookBaseUrl),
          alarmActions: [topic.arn],
          okActions: [topic.arn],
          tags,
        },
        { parent: this },
      );
      this.alarmNames.push(alarm.name);
    }
  }

  /** The worker's own metrics, then a widget per alarm with its threshold. */
  private createDashboard(name: string, args: AlarmsArgs, specs: AlarmSpec[]): aws.cloudwatch.Dashboard {
    const region = aws.getRegionOutput({}, { parent: this }).region;
    return new aws.cloudwatch.Dashboard(
      `${name}-dashboard`,
      {
        dashboardName: `${args.environmentName}-grading`,
        dashboardBody: pulumi
          .all([pulumi.output(specs.map(resolveSpec)), region])
          .apply(([resolved, r]) => dashboardBody(resolved as ResolvedSpec[], args.environmentName, r, args)),
      },
      { parent: this },
    );
  }

  /** The alarm topic under a key CloudWatch may use (see the header). */
  private createTopic(name: string, env: string, tags: Record<string, string>): aws.sns.Topic {
    const parent = { parent: this };
    const account = aws.getCallerIdentityOutput({}, parent).accountId;
    const key = new aws.kms.Key(
      `${name}-topic-key`,
      {
        description: `${env} grading alarms topic: CloudWatch alarms publish through it`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: pulumi.jsonStringify({
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'AccountAdministers',
              Effect: 'Allow',
              Principal: { AWS: pulumi.interpolate`arn:aws:iam::${account}:root` },
              Action: 'kms:*',
              Resource: '*',
            },
            {
              Sid: 'CloudWatchAlarmsPublish',
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
              Resource: '*',
            },
          ],
        }),
        tags,
      },
      parent,
    );
    new aws.kms.Alias(`${name}-topic-key-alias`, { name: `alias/${env}-grading-alarms`, targetKeyId: key.keyId }, parent);
    return new aws.sns.Topic(`${name}-topic`, { name: `${env}-grading-alarms`, kmsMasterKeyId: key.arn, tags }, parent);
  }
}

/** The MetricAlarm properties of one spec (without name, actions and tags). */
export function alarmProperties(spec: AlarmSpec, runbookBaseUrl: string): Partial<aws.cloudwatch.MetricAlarmArgs> {
  const period = spec.periodSeconds ?? DEFAULT_PERIOD_SECONDS;
  const common = {
    alarmDescription: `${spec.meaning} Runbook: ${runbookBaseUrl}#${spec.runbook}`,
    comparisonOperator: spec.comparison,
    threshold: spec.threshold,
    evaluationPeriods: spec.evaluationPeriods ?? DEFAULT_EVALUATION_PERIODS,
    treatMissingData: spec.treatMissingData,
  };
  if (spec.math) {
    return {
      ...common,
      metricQueries: [
        ...spec.math.metrics.map((m) => ({
          id: m.id,
          returnData: false,
          metric: { namespace: m.namespace, metricName: m.metricName, dimensions: m.dimensions, period, stat: m.stat },
        })),
        { id: 'e1', expression: spec.math.expression, label: spec.math.label, returnData: true },
      ],
    };
  }
  const m = spec.metric!;
  const percentile = /^p\d/.test(m.stat);
  const statistic = percentile ? { extendedStatistic: m.stat } : { statistic: m.stat };
  return { ...common, namespace: m.namespace, metricName: m.metricName, dimensions: m.dimensions, period, ...statistic };
}

/** Every alarm of the stack, in dashboard order. */
export function alarmSpecs(a: AlarmsArgs): AlarmSpec[] {
  return [...queueAlarms(a), ...workerAlarms(a), ...serviceAlarms(a), ...judge0Alarms(a), ...brokerAlarms(a)];
}

/** The brokers that report metrics: `<name>-1`, and `<name>-2` for an active/standby pair. */
function reportingBrokers(a: AlarmsArgs): string[] {
  return a.brokerActiveStandby ? [`${a.brokerName}-1`, `${a.brokerName}-2`] : [`${a.brokerName}-1`];
}

/** A queue metric of every reporting broker, ids `<prefix>1`, `<prefix>2`. */
function queueMetric(a: AlarmsArgs, prefix: string, metricName: string, queue: string, stat: string): MetricRef[] {
  return reportingBrokers(a).map((broker, i) => ({
    id: `${prefix}${i + 1}`,
    namespace: 'AWS/AmazonMQ',
    metricName,
    dimensions: { Broker: broker, Queue: queue },
    stat,
  }));
}

/** The sum over brokers, a silent (standby) broker counting 0. */
const sumOf = (refs: MetricRef[]) => refs.map((r) => `FILL(${r.id}, 0)`).join(' + ');

const metric = (namespace: string, metricName: string, dimensions: Dimensions, stat: string): MetricRef => ({
  id: 'm1',
  namespace,
  metricName,
  dimensions,
  stat,
});
const workerMetric = (a: AlarmsArgs, metricName: string, stat: string): MetricRef =>
  metric(METRIC_NAMESPACE, metricName, { Environment: a.environmentName }, stat);

type Missing = AlarmSpec['treatMissingData'];
const above = (threshold: number, evaluationPeriods: number, treatMissingData: Missing) =>
  ({ comparison: 'GreaterThanThreshold', threshold, evaluationPeriods, treatMissingData }) as const;
const below = (threshold: number, evaluationPeriods: number, treatMissingData: Missing) =>
  ({ comparison: 'LessThanThreshold', threshold, evaluationPeriods, treatMissingData }) as const;

/** Requests waiting, dead letters arriving, nobody consuming. */
function queueAlarms(a: AlarmsArgs): AlarmSpec[] {
  const requests = queueMetric(a, 'r', 'QueueSize', QUEUES.requests, 'Maximum');
  const priority = queueMetric(a, 'p', 'QueueSize', QUEUES.priority, 'Maximum');
  const consumers = queueMetric(a, 'c', 'ConsumerCount', QUEUES.requests, 'Minimum');
  // Per point, the larger of the brokers' counts (the standby reports nothing: FILL makes it 0).
  const consumerMax = `MAX(FILL([${consumers.map((r) => r.id).join(', ')}], 0))`;
  const arrivals = queueMetric(a, 'd', 'EnqueueCount', QUEUES.dlq, 'Sum');
  const waiting = `${sumOf(requests)} + ${sumOf(priority)}`;
  const backlog = a.queueBacklogThreshold;
  return [
    {
      id: 'queue-backlog',
      runbook: 'queue-backlog',
      meaning: `More than ${backlog} grading requests (normal + priority, both brokers) waiting for 5 minutes: workers are not keeping up.`,
      math: { expression: waiting, label: 'queued requests', metrics: [...requests, ...priority] },
      comparison: 'GreaterThanThreshold',
      threshold: backlog,
      treatMissingData: 'notBreaching',
    },
    {
      id: 'dlq-growing',
      runbook: 'dlq-growing',
      meaning: 'New messages arrived in grading-dlq this minute: requests that could not be graded (each new arrival pages again).',
      math: { expression: sumOf(arrivals), label: 'dead letters per minute', metrics: arrivals },
      comparison: 'GreaterThanThreshold',
      threshold: 0,
      evaluationPeriods: 1,
      treatMissingData: 'notBreaching',
    },
    a.minRunningTasks > 0
      ? {
          id: 'no-consumers',
          runbook: 'no-consumers',
          meaning: 'No worker consumes grading-requests on either broker for 3 minutes: gradings have stopped.',
          math: { expression: consumerMax, label: 'consumers', metrics: consumers },
          comparison: 'LessThanThreshold',
          threshold: 1,
          evaluationPeriods: 3,
          treatMissingData: 'breaching',
        }
      : {
          id: 'no-consumers',
          runbook: 'no-consumers',
          meaning:
            'Requests have waited 10 minutes with no worker consuming them ' +
            '(workers scale to zero, so an empty queue without consumers is fine).',
          math: {
            expression: `IF((${waiting}) > 0 AND ${consumerMax} < 1, 1, 0)`,
            label: 'waiting without consumers',
            metrics: [...requests, ...priority, ...consumers],
          },
          comparison: 'GreaterThanOrEqualToThreshold',
          threshold: 1,
          evaluationPeriods: 10,
          treatMissingData: 'notBreaching',
        },
  ];
}

/** The worker's own signals: requests held for the executor, grading latency. */
function workerAlarms(a: AlarmsArgs): AlarmSpec[] {
  const worker = (metricName: string, stat: string) => workerMetric(a, metricName, stat);
  return [
    {
      id: 'executor-unavailable',
      runbook: 'executor-unavailable',
      meaning: 'Workers have been holding requests for 3 minutes because the executor (Judge0) refuses or cannot take them.',
      metric: worker('ExecutorUnavailable', 'Sum'),
      comparison: 'GreaterThanThreshold',
      threshold: 0,
      evaluationPeriods: 3,
      treatMissingData: 'notBreaching',
    },
    {
      id: 'grading-latency-p99',
      runbook: 'grading-latency-p99',
      meaning:
        `p99 grading time above ${Math.round(a.latencyP99ThresholdMs / 1000)} s for 15 minutes: ` +
        'gradings are slow (Judge0 overloaded or degraded).',
      metric: worker('GradingLatency', 'p99'),
      comparison: 'GreaterThanThreshold',
      threshold: a.latencyP99ThresholdMs,
      periodSeconds: 300,
      evaluationPeriods: 3,
      treatMissingData: 'notBreaching',
    },
  ];
}

/** ECS tasks, the load balancer and gateways, the database. */
function serviceAlarms(a: AlarmsArgs): AlarmSpec[] {
  const ecs = { ClusterName: a.clusterName, ServiceName: a.serviceName };
  const targetGroup = { LoadBalancer: a.albArnSuffix, TargetGroup: a.targetGroupArnSuffix };
  const database = { DBInstanceIdentifier: a.databaseIdentifier };
  const specs: AlarmSpec[] = [
    {
      id: 'ecs-cpu-high',
      runbook: 'ecs-cpu-high',
      meaning: 'Worker CPU above 90% for 10 minutes.',
      metric: metric('AWS/ECS', 'CPUUtilization', ecs, 'Average'),
      ...above(90, 10, 'missing'),
    },
    {
      id: 'ecs-memory-high',
      runbook: 'ecs-memory-high',
      meaning: 'Worker memory above 90% for 10 minutes.',
      metric: metric('AWS/ECS', 'MemoryUtilization', ecs, 'Average'),
      ...above(90, 10, 'missing'),
    },
    {
      id: 'alb-5xx',
      runbook: 'alb-5xx',
      meaning: 'The load balancer itself returned more than 10 5xx a minute for 5 minutes (no healthy gateway, timeouts).',
      metric: metric('AWS/ApplicationELB', 'HTTPCode_ELB_5XX_Count', { LoadBalancer: a.albArnSuffix }, 'Sum'),
      ...above(10, 5, 'notBreaching'),
    },
    {
      id: 'gateway-5xx',
      runbook: 'gateway-5xx',
      meaning: 'The gateway returned more than 10 5xx a minute for 5 minutes.',
      metric: metric('AWS/ApplicationELB', 'HTTPCode_Target_5XX_Count', targetGroup, 'Sum'),
      ...above(10, 5, 'notBreaching'),
    },
    {
      id: 'gateway-unhealthy',
      runbook: 'gateway-unhealthy',
      meaning: 'A gateway instance has failed its /health check for 3 minutes.',
      metric: metric('AWS/ApplicationELB', 'UnHealthyHostCount', targetGroup, 'Maximum'),
      ...above(0, 3, 'notBreaching'),
    },
    {
      id: 'rds-cpu-high',
      runbook: 'rds-cpu-high',
      meaning: 'Database CPU above 80% for 10 minutes.',
      metric: metric('AWS/RDS', 'CPUUtilization', database, 'Average'),
      ...above(80, 10, 'missing'),
    },
    {
      id: 'rds-storage-low',
      runbook: 'rds-storage-low',
      meaning: 'Database free storage below 2 GiB.',
      metric: metric('AWS/RDS', 'FreeStorageSpace', database, 'Minimum'),
      ...below(2 * 1024 ** 3, 5, 'missing'),
    },
  ];
  if (a.minRunningTasks > 0) {
    specs.push({
      id: 'tasks-below-minimum',
      runbook: 'tasks-below-minimum',
      meaning: `Fewer than ${a.minRunningTasks} worker task(s) running for 3 minutes: tasks are crashing or cannot start.`,
      metric: metric('ECS/ContainerInsights', 'RunningTaskCount', ecs, 'Minimum'),
      comparison: 'LessThanThreshold',
      threshold: a.minRunningTasks,
      evaluationPeriods: 3,
      treatMissingData: 'breaching',
    });
  }
  return specs;
}

/** Judge0 as the workers see it, and each host's EC2 status checks. */
function judge0Alarms(a: AlarmsArgs): AlarmSpec[] {
  const specs: AlarmSpec[] = [];
  const worker = (metricName: string, stat: string) => workerMetric(a, metricName, stat);
  if (a.judge0InstanceIds.length > 0) {
    specs.push({
      id: 'judge0-unhealthy',
      runbook: 'judge0-unhealthy',
      meaning:
        'A worker has found Judge0 unhealthy for 3 minutes ' +
        "(its /workers check fails: host down, Judge0's own workers stopped, or the auth token rejected).",
      metric: worker('ExecutorHealthy', 'Minimum'),
      comparison: 'LessThanThreshold',
      threshold: 1,
      evaluationPeriods: 3,
      treatMissingData: 'missing',
    });
  }
  a.judge0InstanceIds.forEach((instanceId, i) =>
    specs.push({
      id: `judge0-${i + 1}-status-check`,
      runbook: 'judge0-status-check',
      meaning: `Judge0 host ${i + 1} fails its EC2 status checks.`,
      metric: metric('AWS/EC2', 'StatusCheckFailed', { InstanceId: instanceId }, 'Maximum'),
      ...above(0, 2, 'breaching'),
    }),
  );
  return specs;
}

/** CPU, heap and store of each reporting broker. */
function brokerAlarms(a: AlarmsArgs): AlarmSpec[] {
  const specs: AlarmSpec[] = [];
  reportingBrokers(a).forEach((broker, i) => {
    const b = { Broker: broker };
    specs.push({
      id: `broker-${i + 1}-cpu-high`,
      runbook: 'broker-cpu-high',
      meaning: `Broker ${broker} CPU above 80% for 10 minutes.`,
      metric: metric('AWS/AmazonMQ', 'CpuUtilization', b, 'Average'),
      ...above(80, 10, 'missing'),
    });
    specs.push({
      id: `broker-${i + 1}-heap-high`,
      runbook: 'broker-heap-high',
      meaning: `Broker ${broker} JVM heap above 80%: producer flow control is near.`,
      metric: metric('AWS/AmazonMQ', 'HeapUsage', b, 'Maximum'),
      ...above(80, 5, 'missing'),
    });
    specs.push({
      id: `broker-${i + 1}-store-high`,
      runbook: 'broker-store-high',
      meaning:
        `Broker ${broker} persistent store above ${a.storeUsagePercentThreshold}% for 10 minutes: ` +
        'when it is full, producers block and submissions stop.',
      metric: metric('AWS/AmazonMQ', 'StorePercentUsage', b, 'Maximum'),
      comparison: 'GreaterThanThreshold',
      threshold: a.storeUsagePercentThreshold,
      periodSeconds: 300,
      evaluationPeriods: 2,
      treatMissingData: 'missing',
    });
  });
  return specs;
}

type ResolvedRef = Omit<MetricRef, 'dimensions'> & { dimensions: Record<string, string> };
type ResolvedSpec = Omit<AlarmSpec, 'metric' | 'math'> & {
  metric?: ResolvedRef;
  math?: { expression: string; label: string; metrics: ResolvedRef[] };
};

function resolveSpec(spec: AlarmSpec): pulumi.Output<ResolvedSpec> {
  return pulumi.output(spec) as unknown as pulumi.Output<ResolvedSpec>;
}

const metricLine = (r: ResolvedRef, extra: Record<string, unknown> = {}) => [
  r.namespace,
  r.metricName,
  ...Object.entries(r.dimensions).flat(),
  { stat: r.stat, ...extra },
];

function dashboardBody(specs: ResolvedSpec[], env: string, region: string, args: AlarmsArgs): string {
  const widget = (title: string, metrics: unknown[], extra: Record<string, unknown> = {}) => ({
    type: 'metric',
    width: 8,
    height: 6,
    properties: { title, region, period: 60, metrics, ...extra },
  });
  const worker = (metricName: string, stat: string, label: string, dims: string[] = []) => [
    METRIC_NAMESPACE,
    metricName,
    'Environment',
    env,
    ...dims,
    { stat, label },
  ];
  const workerWidgets = [
    widget(
      'worker: graded per verdict',
      VERDICTS.map((v) => worker('Graded', 'Sum', v, ['Verdict', v])),
      { stacked: true },
    ),
    widget('worker: grading latency (ms)', [worker('GradingLatency', 'p50', 'p50'), worker('GradingLatency', 'p99', 'p99')], {
      period: 300,
    }),
    widget('worker: executor', [
      worker('ExecutorUnavailable', 'Sum', 'requests held: executor unavailable'),
      worker('ExecutorHealthy', 'Minimum', 'executor healthy (min over workers)'),
    ]),
  ];
  const alarmWidgets = specs.map((s) =>
    widget(
      s.id,
      s.math
        ? [
            [{ expression: s.math.expression, label: s.math.label, id: 'e1' }],
            ...s.math.metrics.map((m) => metricLine(m, { id: m.id, visible: false })),
          ]
        : [metricLine(s.metric!)],
      { period: s.periodSeconds ?? DEFAULT_PERIOD_SECONDS, annotations: { horizontal: [{ label: 'alarm', value: s.threshold }] } },
    ),
  );
  const widgets = [...workerWidgets, ...alarmWidgets].map((w, i) => ({ ...w, x: (i % 3) * 8, y: 1 + Math.floor(i / 3) * 6 }));
  const runbook = args.runbookBaseUrl;
  const heading = {
    type: 'text',
    x: 0,
    y: 0,
    width: 24,
    height: 1,
    properties: { markdown: `# grading-stack ${env} (runbook: ${runbook})` },
  };
  return JSON.stringify({ widgets: [heading, ...widgets] });
}
