/**
 * What on-call hears about: an SNS topic (email per alarmEmails), an alarm for each way the system
 * breaks, every alarm with actions to the topic (alarm and recovery), and a dashboard of the same
 * metrics. treatMissingData is chosen per alarm: silence from a queue is fine, silence from
 * consumers or tasks is not.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { QUEUES } from './brokerXml';
import { tagsFor } from './common';

export interface AlarmsArgs {
  environmentName: string;
  alarmEmails: string[];
  brokerName: string;
  brokerActiveStandby: boolean;
  clusterName: pulumi.Input<string>;
  serviceName: pulumi.Input<string>;
  /** Alarm when running tasks drop below this. */
  minRunningTasks: number;
  albArnSuffix: pulumi.Input<string>;
  targetGroupArnSuffix: pulumi.Input<string>;
  judge0InstanceIds: pulumi.Input<string>[];
  databaseIdentifier: pulumi.Input<string>;
  /** Queued grading requests that page on-call. Default 100. */
  queueBacklogThreshold?: number;
}

interface AlarmSpec {
  id: string;
  description: string;
  namespace: string;
  metricName: string;
  dimensions: Record<string, pulumi.Input<string>>;
  statistic: 'Average' | 'Sum' | 'Maximum' | 'Minimum';
  comparison: 'GreaterThanThreshold' | 'GreaterThanOrEqualToThreshold' | 'LessThanThreshold';
  threshold: number;
  periodSeconds?: number;
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
    const parent = { parent: this };

    const topic = new aws.sns.Topic(`${name}-topic`, { name: `${env}-grading-alarms`, kmsMasterKeyId: 'alias/aws/sns', tags }, parent);
    args.alarmEmails.forEach((email, i) => new aws.sns.TopicSubscription(`${name}-email-${i}`, { topic: topic.arn, protocol: 'email', endpoint: email }, parent));
    this.topicArn = topic.arn;

    const specs = alarmSpecs(args);
    for (const spec of specs) {
      const alarm = new aws.cloudwatch.MetricAlarm(
        `${name}-${spec.id}`,
        {
          name: `${env}-grading-${spec.id}`,
          alarmDescription: spec.description,
          namespace: spec.namespace,
          metricName: spec.metricName,
          dimensions: spec.dimensions,
          statistic: spec.statistic,
          comparisonOperator: spec.comparison,
          threshold: spec.threshold,
          period: spec.periodSeconds ?? 60,
          evaluationPeriods: spec.evaluationPeriods ?? 5,
          treatMissingData: spec.treatMissingData,
          alarmActions: [topic.arn],
          okActions: [topic.arn],
          tags,
        },
        parent,
      );
      this.alarmNames.push(alarm.name);
    }

    const dashboard = new aws.cloudwatch.Dashboard(
      `${name}-dashboard`,
      {
        dashboardName: `${env}-grading`,
        dashboardBody: pulumi
          .all([pulumi.all(specs.map((s) => pulumi.output(s.dimensions).apply((d) => ({ ...s, dimensions: d })))), aws.getRegionOutput({}, parent).region])
          .apply(([resolved, region]) => dashboardBody(resolved, env, region)),
      },
      parent,
    );
    this.dashboardName = dashboard.dashboardName;
    this.registerOutputs({ topicArn: this.topicArn, dashboardName: this.dashboardName });
  }
}

export function alarmSpecs(a: AlarmsArgs): AlarmSpec[] {
  const brokers = a.brokerActiveStandby ? [`${a.brokerName}-1`, `${a.brokerName}-2`] : [`${a.brokerName}-1`];
  // Only the active broker of a pair reports queue metrics: queue alarms watch instance 1, which
  // is active unless a failover happened (then -2 reports and these read "missing").
  const queueBroker = brokers[0];
  const ecs = { ClusterName: a.clusterName, ServiceName: a.serviceName };
  const specs: AlarmSpec[] = [
    { id: 'queue-backlog', description: `More than ${a.queueBacklogThreshold ?? 100} grading requests waiting for 5 minutes: workers are not keeping up (check scaling and Judge0).`, namespace: 'AWS/AmazonMQ', metricName: 'QueueSize', dimensions: { Broker: queueBroker, Queue: QUEUES.requests }, statistic: 'Maximum', comparison: 'GreaterThanThreshold', threshold: a.queueBacklogThreshold ?? 100, treatMissingData: 'notBreaching' },
    { id: 'dlq-not-empty', description: 'Messages in grading-dlq: requests that could not be graded. Read x-error-reason on each.', namespace: 'AWS/AmazonMQ', metricName: 'QueueSize', dimensions: { Broker: queueBroker, Queue: QUEUES.dlq }, statistic: 'Maximum', comparison: 'GreaterThanThreshold', threshold: 0, evaluationPeriods: 1, treatMissingData: 'notBreaching' },
    { id: 'no-consumers', description: 'No worker is consuming grading-requests: gradings have stopped.', namespace: 'AWS/AmazonMQ', metricName: 'ConsumerCount', dimensions: { Broker: queueBroker, Queue: QUEUES.requests }, statistic: 'Minimum', comparison: 'LessThanThreshold', threshold: 1, evaluationPeriods: 3, treatMissingData: 'breaching' },
    { id: 'ecs-cpu-high', description: 'Worker CPU above 90% for 10 minutes.', namespace: 'AWS/ECS', metricName: 'CPUUtilization', dimensions: ecs, statistic: 'Average', comparison: 'GreaterThanThreshold', threshold: 90, evaluationPeriods: 10, treatMissingData: 'missing' },
    { id: 'ecs-memory-high', description: 'Worker memory above 90% for 10 minutes.', namespace: 'AWS/ECS', metricName: 'MemoryUtilization', dimensions: ecs, statistic: 'Average', comparison: 'GreaterThanThreshold', threshold: 90, evaluationPeriods: 10, treatMissingData: 'missing' },
    { id: 'tasks-below-minimum', description: `Fewer than ${a.minRunningTasks} worker task(s) running: tasks are crashing or cannot start.`, namespace: 'ECS/ContainerInsights', metricName: 'RunningTaskCount', dimensions: ecs, statistic: 'Minimum', comparison: 'LessThanThreshold', threshold: a.minRunningTasks, evaluationPeriods: 3, treatMissingData: 'breaching' },
    { id: 'alb-5xx', description: 'The load balancer itself returned 5xx (no healthy gateway, timeouts).', namespace: 'AWS/ApplicationELB', metricName: 'HTTPCode_ELB_5XX_Count', dimensions: { LoadBalancer: a.albArnSuffix }, statistic: 'Sum', comparison: 'GreaterThanThreshold', threshold: 10, treatMissingData: 'notBreaching' },
    { id: 'gateway-5xx', description: 'The gateway returned 5xx responses.', namespace: 'AWS/ApplicationELB', metricName: 'HTTPCode_Target_5XX_Count', dimensions: { LoadBalancer: a.albArnSuffix, TargetGroup: a.targetGroupArnSuffix }, statistic: 'Sum', comparison: 'GreaterThanThreshold', threshold: 10, treatMissingData: 'notBreaching' },
    { id: 'gateway-unhealthy', description: 'A gateway instance fails its /health check.', namespace: 'AWS/ApplicationELB', metricName: 'UnHealthyHostCount', dimensions: { LoadBalancer: a.albArnSuffix, TargetGroup: a.targetGroupArnSuffix }, statistic: 'Maximum', comparison: 'GreaterThanThreshold', threshold: 0, evaluationPeriods: 3, treatMissingData: 'notBreaching' },
    { id: 'rds-cpu-high', description: 'Database CPU above 80% for 10 minutes.', namespace: 'AWS/RDS', metricName: 'CPUUtilization', dimensions: { DBInstanceIdentifier: a.databaseIdentifier }, statistic: 'Average', comparison: 'GreaterThanThreshold', threshold: 80, evaluationPeriods: 10, treatMissingData: 'missing' },
    { id: 'rds-storage-low', description: 'Database free storage below 2 GiB.', namespace: 'AWS/RDS', metricName: 'FreeStorageSpace', dimensions: { DBInstanceIdentifier: a.databaseIdentifier }, statistic: 'Minimum', comparison: 'LessThanThreshold', threshold: 2 * 1024 ** 3, treatMissingData: 'missing' },
  ];
  a.judge0InstanceIds.forEach((instanceId, i) =>
    specs.push({ id: `judge0-${i + 1}-status-check`, description: `Judge0 host ${i + 1} fails its EC2 status checks.`, namespace: 'AWS/EC2', metricName: 'StatusCheckFailed', dimensions: { InstanceId: instanceId }, statistic: 'Maximum', comparison: 'GreaterThanOrEqualToThreshold', threshold: 1, evaluationPeriods: 2, treatMissingData: 'breaching' }),
  );
  brokers.forEach((broker, i) => {
    specs.push({ id: `broker-${i + 1}-cpu-high`, description: `Broker ${broker} CPU above 80%.`, namespace: 'AWS/AmazonMQ', metricName: 'CpuUtilization', dimensions: { Broker: broker }, statistic: 'Average', comparison: 'GreaterThanThreshold', threshold: 80, evaluationPeriods: 10, treatMissingData: 'missing' });
    specs.push({ id: `broker-${i + 1}-heap-high`, description: `Broker ${broker} JVM heap above 80%: producer flow control is near.`, namespace: 'AWS/AmazonMQ', metricName: 'HeapUsage', dimensions: { Broker: broker }, statistic: 'Maximum', comparison: 'GreaterThanThreshold', threshold: 80, evaluationPeriods: 5, treatMissingData: 'missing' });
  });
  return specs;
}

function dashboardBody(specs: Array<Omit<AlarmSpec, 'dimensions'> & { dimensions: Record<string, string> }>, env: string, region: string): string {
  const widgets = specs.map((s, i) => ({
    type: 'metric',
    x: (i % 3) * 8,
    y: Math.floor(i / 3) * 6,
    width: 8,
    height: 6,
    properties: {
      title: s.id,
      region,
      stat: s.statistic,
      period: s.periodSeconds ?? 60,
      metrics: [[s.namespace, s.metricName, ...Object.entries(s.dimensions).flat()]],
      annotations: { horizontal: [{ label: 'alarm', value: s.threshold }] },
    },
  }));
  return JSON.stringify({ widgets: [{ type: 'text', x: 0, y: 0, width: 24, height: 1, properties: { markdown: `# grading-stack ${env}` } }, ...widgets.map((w) => ({ ...w, y: w.y + 1 }))] });
}
