import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Alarms, AlarmsArgs } from '../../components/alarms';
import { plan, readStackConfig } from '../../scripts/plan';
import { DEFAULTS } from '../../components/config';
import { alarmsDefaults } from './configDefaults';
import { ofType, one, settled, useMocks } from './harness';

const base: AlarmsArgs = {
  environmentName: 'production',
  alarmEmails: ['oncall@example.com', 'team@example.com'],
  brokerName: 'production-grading',
  brokerActiveStandby: true,
  clusterName: 'production-grading',
  serviceName: 'production-grading-worker',
  minRunningTasks: 1,
  albArnSuffix: 'app/production-grading/123',
  targetGroupArnSuffix: 'targetgroup/production-grading-gw/456',
  judge0InstanceIds: ['i-1', 'i-2'],
  databaseIdentifier: 'production-grading',
  ...alarmsDefaults,
};

type Query = {
  id: string;
  expression?: string;
  returnData: boolean;
  metric?: { namespace: string; metricName: string; dimensions: Record<string, string>; stat: string; period: number };
};

/** GitHub's heading anchors of docs/runbook.md. */
function runbookAnchors(): Set<string> {
  const text = fs.readFileSync(path.join(__dirname, '../../docs/runbook.md'), 'utf8');
  return new Set(
    [...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
      m[1]
        .trim()
        .toLowerCase()
        .replace(/[^\w\- ]/g, '')
        .replace(/ /g, '-'),
    ),
  );
}

describe('Alarms', () => {
  beforeEach(() => useMocks());

  const alarm = (id: string) => one('aws:cloudwatch/metricAlarm:MetricAlarm', `a-${id}`).inputs;
  const queries = (id: string) => alarm(id).metricQueries as Query[];
  const dims = (id: string) =>
    queries(id)
      .filter((q) => q.metric)
      .map((q) => [q.id, q.metric!.metricName, q.metric!.dimensions.Broker, q.metric!.dimensions.Queue, q.metric!.stat]);

  it('publishes to a topic under a customer managed key that CloudWatch may use', async () => {
    new Alarms('a', base);
    await settled();
    const key = one('aws:kms/key:Key').inputs;
    assert.equal(key.enableKeyRotation, true);
    const statements = JSON.parse(key.policy).Statement;
    const cloudwatch = statements.find((s: { Principal: { Service?: string } }) => s.Principal.Service === 'cloudwatch.amazonaws.com');
    assert.deepEqual(cloudwatch.Action, ['kms:Decrypt', 'kms:GenerateDataKey*']);
    const topic = one('aws:sns/topic:Topic').inputs;
    assert.equal(topic.kmsMasterKeyId, 'arn:aws:mock:us-east-1:123456789012:Key/a-topic-key');
    assert.notEqual(topic.kmsMasterKeyId, 'alias/aws/sns');
    assert.deepEqual(
      ofType('aws:sns/topicSubscription:TopicSubscription').map((s) => [s.inputs.protocol, s.inputs.endpoint]),
      [
        ['email', 'oncall@example.com'],
        ['email', 'team@example.com'],
      ],
    );
  });

  it('sums the backlog of both request queues over both brokers of the pair', async () => {
    new Alarms('a', base);
    await settled();
    assert.deepEqual(dims('queue-backlog'), [
      ['r1', 'QueueSize', 'production-grading-1', 'grading-requests', 'Maximum'],
      ['r2', 'QueueSize', 'production-grading-2', 'grading-requests', 'Maximum'],
      ['p1', 'QueueSize', 'production-grading-1', 'grading-priority', 'Maximum'],
      ['p2', 'QueueSize', 'production-grading-2', 'grading-priority', 'Maximum'],
    ]);
    const expression = queries('queue-backlog').find((q) => q.returnData)!;
    assert.equal(expression.expression, 'FILL(r1, 0) + FILL(r2, 0) + FILL(p1, 0) + FILL(p2, 0)');
    assert.deepEqual(
      [alarm('queue-backlog').threshold, alarm('queue-backlog').comparisonOperator, alarm('queue-backlog').metricName],
      [100, 'GreaterThanThreshold', undefined],
    );
  });

  it('pages on every new dead letter (arrivals per minute on both brokers), not on a DLQ that stays non-empty', async () => {
    new Alarms('a', base);
    await settled();
    assert.deepEqual(dims('dlq-growing'), [
      ['d1', 'EnqueueCount', 'production-grading-1', 'grading-dlq', 'Sum'],
      ['d2', 'EnqueueCount', 'production-grading-2', 'grading-dlq', 'Sum'],
    ]);
    const a = alarm('dlq-growing');
    assert.deepEqual(
      [a.threshold, a.comparisonOperator, a.evaluationPeriods, a.treatMissingData],
      [0, 'GreaterThanThreshold', 1, 'notBreaching'],
    );
    assert.equal(
      queries('dlq-growing').every((q) => !q.metric || q.metric.period === 60),
      true,
    );
    assert.equal(ofType('aws:cloudwatch/metricAlarm:MetricAlarm').filter((r) => r.name.includes('dlq')).length, 1);
  });

  it('counts consumers on whichever broker is active', async () => {
    new Alarms('a', base);
    await settled();
    assert.equal(queries('no-consumers').find((q) => q.returnData)!.expression, 'MAX(FILL([c1, c2], 0))');
    const a = alarm('no-consumers');
    assert.deepEqual([a.comparisonOperator, a.threshold, a.treatMissingData], ['LessThanThreshold', 1, 'breaching']);
    assert.deepEqual(alarm('tasks-below-minimum').threshold, 1);
  });

  it('lets workers scale to zero without alarming forever', async () => {
    new Alarms('a', { ...base, minRunningTasks: 0 });
    await settled();
    assert.equal(
      ofType('aws:cloudwatch/metricAlarm:MetricAlarm').some((r) => r.name.includes('tasks-below-minimum')),
      false,
    );
    const a = alarm('no-consumers');
    assert.equal(
      queries('no-consumers').find((q) => q.returnData)!.expression,
      'IF((FILL(r1, 0) + FILL(r2, 0) + FILL(p1, 0) + FILL(p2, 0)) > 0 AND MAX(FILL([c1, c2], 0)) < 1, 1, 0)',
    );
    assert.deepEqual(
      [a.comparisonOperator, a.threshold, a.evaluationPeriods, a.treatMissingData],
      ['GreaterThanOrEqualToThreshold', 1, 10, 'notBreaching'],
    );
  });

  it("watches the worker's own signals: executor unavailable, Judge0 health as it sees it, latency p99", async () => {
    new Alarms('a', { ...base, latencyP99ThresholdMs: 45_000 });
    await settled();
    const unavailable = alarm('executor-unavailable');
    assert.deepEqual(
      [
        unavailable.namespace,
        unavailable.metricName,
        unavailable.dimensions,
        unavailable.statistic,
        unavailable.threshold,
        unavailable.evaluationPeriods,
      ],
      ['GradingStack/Worker', 'ExecutorUnavailable', { Environment: 'production' }, 'Sum', 0, 3],
    );
    const judge0 = alarm('judge0-unhealthy');
    assert.deepEqual(
      [judge0.metricName, judge0.statistic, judge0.comparisonOperator, judge0.threshold],
      ['ExecutorHealthy', 'Minimum', 'LessThanThreshold', 1],
    );
    const latency = alarm('grading-latency-p99');
    assert.deepEqual(
      [latency.metricName, latency.extendedStatistic, latency.statistic, latency.threshold, latency.period],
      ['GradingLatency', 'p99', undefined, 45_000, 300],
    );
  });

  it('pages at the config defaults: backlog, p99 latency, broker store usage, runbook path', async () => {
    new Alarms('a', base);
    await settled();
    assert.equal(alarm('queue-backlog').threshold, DEFAULTS.queueBacklogAlarmThreshold);
    assert.equal(alarm('grading-latency-p99').threshold, DEFAULTS.gradingLatencyAlarmMs);
    assert.equal(alarm('broker-1-store-high').threshold, DEFAULTS.brokerStoreAlarmPercent);
    assert.ok((alarm('queue-backlog').alarmDescription as string).endsWith(`Runbook: ${DEFAULTS.runbookBaseUrl}#queue-backlog`));
  });

  it('watches store, CPU and heap of both brokers, ECS, the ALB, Judge0 hosts and RDS', async () => {
    new Alarms('a', base);
    await settled();
    for (const n of [1, 2]) {
      const store = alarm(`broker-${n}-store-high`);
      assert.deepEqual(
        [store.namespace, store.metricName, store.dimensions, store.threshold],
        ['AWS/AmazonMQ', 'StorePercentUsage', { Broker: `production-grading-${n}` }, 80],
      );
      assert.deepEqual(alarm(`broker-${n}-heap-high`).dimensions, { Broker: `production-grading-${n}` });
      assert.equal(alarm(`broker-${n}-cpu-high`).metricName, 'CpuUtilization');
    }
    assert.deepEqual(alarm('ecs-cpu-high').dimensions, { ClusterName: 'production-grading', ServiceName: 'production-grading-worker' });
    const tasks = alarm('tasks-below-minimum');
    assert.deepEqual(
      [tasks.namespace, tasks.metricName, tasks.threshold, tasks.treatMissingData],
      ['ECS/ContainerInsights', 'RunningTaskCount', 1, 'breaching'],
    );
    assert.equal(alarm('alb-5xx').metricName, 'HTTPCode_ELB_5XX_Count');
    assert.equal(alarm('gateway-5xx').metricName, 'HTTPCode_Target_5XX_Count');
    assert.equal(alarm('gateway-unhealthy').metricName, 'UnHealthyHostCount');
    assert.deepEqual(alarm('judge0-2-status-check').dimensions, { InstanceId: 'i-2' });
    assert.equal(alarm('rds-storage-low').threshold, 2 * 1024 ** 3);
  });

  it('covers the single broker of a single-instance deployment', async () => {
    new Alarms('a', { ...base, brokerActiveStandby: false });
    await settled();
    assert.deepEqual(dims('dlq-growing'), [['d1', 'EnqueueCount', 'production-grading-1', 'grading-dlq', 'Sum']]);
    assert.equal(
      ofType('aws:cloudwatch/metricAlarm:MetricAlarm').some((r) => r.name.includes('broker-2')),
      false,
    );
  });

  it('sends every alarm and its recovery to the topic; every description says what it means and links an existing runbook section', async () => {
    new Alarms('a', { ...base, runbookBaseUrl: 'https://github.com/acme/grading-stack/blob/main/docs/runbook.md' });
    await settled();
    const alarms = ofType('aws:cloudwatch/metricAlarm:MetricAlarm');
    assert.equal(alarms.length, 22);
    const anchors = runbookAnchors();
    for (const a of alarms) {
      assert.deepEqual(a.inputs.alarmActions, ['arn:aws:mock:us-east-1:123456789012:Topic/a-topic']);
      assert.deepEqual(a.inputs.okActions, a.inputs.alarmActions);
      const match = /^(.{20,}\.) Runbook: https:\/\/github\.com\/acme\/grading-stack\/blob\/main\/docs\/runbook\.md#([\w-]+)$/.exec(
        a.inputs.alarmDescription,
      );
      assert.ok(match, `${a.name}: ${a.inputs.alarmDescription}`);
      assert.ok(anchors.has(match[2]), `${a.name} links #${match[2]}, which docs/runbook.md lacks`);
      assert.ok(a.inputs.alarmDescription.length <= 1024, `${a.name}: description longer than CloudWatch allows`);
    }
  });

  it('links the repository runbook by default', async () => {
    new Alarms('a', base);
    await settled();
    assert.match(alarm('dlq-growing').alarmDescription, / Runbook: docs\/runbook\.md#dlq-growing$/);
  });

  it("draws the alarmed metrics and the worker's own on the dashboard", async () => {
    new Alarms('a', base);
    await settled();
    const body = JSON.parse(one('aws:cloudwatch/dashboard:Dashboard').inputs.dashboardBody);
    const metrics = body.widgets.filter((w: { type: string }) => w.type === 'metric');
    const titled = (title: string) => metrics.find((w: { properties: { title: string } }) => w.properties.title === title).properties;
    assert.equal(metrics.length, 22 + 3);
    const verdicts = titled('worker: graded per verdict').metrics;
    assert.deepEqual(verdicts[0], [
      'GradingStack/Worker',
      'Graded',
      'Environment',
      'production',
      'Verdict',
      'AC',
      { stat: 'Sum', label: 'AC' },
    ]);
    assert.deepEqual(
      titled('worker: grading latency (ms)').metrics.map((m: unknown[]) => (m[4] as { stat: string }).stat),
      ['p50', 'p99'],
    );
    assert.deepEqual(
      titled('worker: executor').metrics.map((m: unknown[]) => m[1]),
      ['ExecutorUnavailable', 'ExecutorHealthy'],
    );
    const dlq = titled('dlq-growing').metrics;
    assert.equal(dlq[0][0].expression, 'FILL(d1, 0) + FILL(d2, 0)');
    assert.deepEqual(dlq[2], [
      'AWS/AmazonMQ',
      'EnqueueCount',
      'Broker',
      'production-grading-2',
      'Queue',
      'grading-dlq',
      { stat: 'Sum', id: 'd2', visible: false },
    ]);
    assert.equal(metrics[0].properties.region, 'us-east-1');
  });

  it('gives every alarm the whole stack creates a runbook section (production, and scaled to zero)', async function () {
    this.timeout(60_000);
    const anchors = runbookAnchors();
    for (const config of [readStackConfig('production'), { ...readStackConfig('production'), ecsMinCapacity: 0, ecsDesiredCount: 0 }]) {
      const { resources } = await plan('production', config);
      const alarms = resources.filter((r) => r.type === 'aws:cloudwatch/metricAlarm:MetricAlarm');
      assert.ok(alarms.length >= 20, `only ${alarms.length} alarms`);
      for (const a of alarms) {
        const anchor = /Runbook: docs\/runbook\.md#([\w-]+)$/.exec(a.inputs.alarmDescription)?.[1];
        assert.ok(anchor && anchors.has(anchor), `${a.name}: no runbook section for "${a.inputs.alarmDescription}"`);
      }
      assert.equal(
        alarms.some((a) => a.name.endsWith('tasks-below-minimum')),
        config.ecsMinCapacity !== 0,
      );
      // Active/standby: every queue alarm reads both brokers (only the active one reports).
      for (const a of alarms) {
        const queueMetrics = ((a.inputs.metricQueries ?? []) as Query[]).filter((q) => q.metric?.dimensions.Queue);
        if (a.inputs.dimensions?.Queue) assert.fail(`${a.name} watches one broker's queue`);
        const series = (q: Query) => `${q.metric!.metricName} ${q.metric!.dimensions.Queue}`;
        for (const watched of new Set(queueMetrics.map(series))) {
          const brokers = queueMetrics.filter((q) => series(q) === watched).map((q) => q.metric!.dimensions.Broker);
          assert.deepEqual(brokers.sort(), ['production-grading-1', 'production-grading-2'], `${a.name}: ${watched}`);
        }
      }
      // The seam: the worker's metrics carry ENVIRONMENT from its task definition; the alarms must ask for that value.
      const task = resources.find((r) => r.type === 'aws:ecs/taskDefinition:TaskDefinition')!;
      const containers = JSON.parse(task.inputs.containerDefinitions) as Array<{ environment: Array<{ name: string; value: string }> }>;
      const environment = containers[0].environment.find((e) => e.name === 'ENVIRONMENT')!.value;
      for (const id of ['executor-unavailable', 'judge0-unhealthy', 'grading-latency-p99']) {
        assert.deepEqual(alarms.find((a) => a.name.endsWith(id))!.inputs.dimensions, { Environment: environment }, id);
      }
    }
  });
});
