import assert from 'node:assert/strict';
import { Alarms } from '../../components/alarms';
import { ofType, one, settled, useMocks } from './harness';

const base = {
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
  queueBacklogThreshold: 100,
};

describe('Alarms', () => {
  beforeEach(() => useMocks());

  const alarm = (id: string) => one('aws:cloudwatch/metricAlarm:MetricAlarm', `a-${id}`).inputs;

  it('subscribes every on-call email to an encrypted topic', async () => {
    new Alarms('a', base);
    await settled();
    assert.equal(one('aws:sns/topic:Topic').inputs.kmsMasterKeyId, 'alias/aws/sns');
    assert.deepEqual(ofType('aws:sns/topicSubscription:TopicSubscription').map((s) => [s.inputs.protocol, s.inputs.endpoint]), [['email', 'oncall@example.com'], ['email', 'team@example.com']]);
  });

  it('watches the queue backlog, the DLQ and consumers on the broker', async () => {
    new Alarms('a', base);
    await settled();
    const backlog = alarm('queue-backlog');
    assert.deepEqual([backlog.namespace, backlog.metricName, backlog.dimensions, backlog.threshold, backlog.comparisonOperator], ['AWS/AmazonMQ', 'QueueSize', { Broker: 'production-grading-1', Queue: 'grading-requests' }, 100, 'GreaterThanThreshold']);
    const dlq = alarm('dlq-not-empty');
    assert.deepEqual([dlq.dimensions.Queue, dlq.threshold, dlq.evaluationPeriods, dlq.treatMissingData], ['grading-dlq', 0, 1, 'notBreaching']);
    const consumers = alarm('no-consumers');
    assert.deepEqual([consumers.metricName, consumers.comparisonOperator, consumers.threshold, consumers.treatMissingData], ['ConsumerCount', 'LessThanThreshold', 1, 'breaching']);
  });

  it('watches ECS, the ALB, Judge0 hosts, RDS and both brokers', async () => {
    new Alarms('a', base);
    await settled();
    assert.deepEqual(alarm('ecs-cpu-high').dimensions, { ClusterName: 'production-grading', ServiceName: 'production-grading-worker' });
    assert.equal(alarm('ecs-memory-high').metricName, 'MemoryUtilization');
    const tasks = alarm('tasks-below-minimum');
    assert.deepEqual([tasks.namespace, tasks.metricName, tasks.threshold, tasks.treatMissingData], ['ECS/ContainerInsights', 'RunningTaskCount', 1, 'breaching']);
    assert.equal(alarm('alb-5xx').metricName, 'HTTPCode_ELB_5XX_Count');
    assert.equal(alarm('gateway-5xx').metricName, 'HTTPCode_Target_5XX_Count');
    assert.equal(alarm('gateway-unhealthy').metricName, 'UnHealthyHostCount');
    assert.deepEqual(alarm('judge0-2-status-check').dimensions, { InstanceId: 'i-2' });
    assert.equal(alarm('rds-storage-low').threshold, 2 * 1024 ** 3);
    assert.equal(alarm('rds-cpu-high').dimensions.DBInstanceIdentifier, 'production-grading');
    assert.deepEqual(alarm('broker-2-heap-high').dimensions, { Broker: 'production-grading-2' });
    assert.equal(alarm('broker-1-cpu-high').metricName, 'CpuUtilization');
  });

  it('sends every alarm and its recovery to the topic', async () => {
    new Alarms('a', base);
    await settled();
    const alarms = ofType('aws:cloudwatch/metricAlarm:MetricAlarm');
    assert.equal(alarms.length, 17);
    for (const a of alarms) {
      assert.deepEqual(a.inputs.alarmActions, ['arn:aws:mock:us-east-1:123456789012:Topic/a-topic']);
      assert.deepEqual(a.inputs.okActions, a.inputs.alarmActions);
    }
  });

  it('draws a dashboard of the alarmed metrics', async () => {
    new Alarms('a', base);
    await settled();
    const body = JSON.parse(one('aws:cloudwatch/dashboard:Dashboard').inputs.dashboardBody);
    const metrics = body.widgets.filter((w: { type: string }) => w.type === 'metric');
    assert.equal(metrics.length, 17);
    assert.ok(metrics.some((w: { properties: { metrics: string[][] } }) => w.properties.metrics[0].includes('grading-dlq')));
    assert.equal(metrics[0].properties.region, 'us-east-1');
  });
});
