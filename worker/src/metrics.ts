/**
 * CloudWatch Embedded Metric Format: a log line that CloudWatch turns into metrics (graded count,
 * latency, by verdict), with no agent and no PutMetricData calls.
 */
export const METRIC_NAMESPACE = 'GradingStack/Worker';

export function gradedMetricLine(
  environment: string,
  verdict: string,
  latencyMs: number,
  fields: Record<string, unknown> = {},
  now = Date.now(),
): string {
  return `${JSON.stringify({
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: METRIC_NAMESPACE,
          Dimensions: [['Environment'], ['Environment', 'Verdict']],
          Metrics: [
            { Name: 'Graded', Unit: 'Count' },
            { Name: 'GradingLatency', Unit: 'Milliseconds' },
          ],
        },
      ],
    },
    Environment: environment,
    Verdict: verdict,
    Graded: 1,
    GradingLatency: Math.round(latencyMs),
    ...fields,
  })}\n`;
}

/** One EMF line with `Environment` as the only dimension set. */
function environmentMetricLine(
  environment: string,
  metrics: Array<{ name: string; unit: string; value: number }>,
  fields: Record<string, unknown>,
  now: number,
): string {
  return `${JSON.stringify({
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: METRIC_NAMESPACE,
          Dimensions: [['Environment']],
          Metrics: metrics.map(({ name, unit }) => ({ Name: name, Unit: unit })),
        },
      ],
    },
    Environment: environment,
    ...Object.fromEntries(metrics.map(({ name, value }) => [name, value])),
    ...fields,
  })}\n`;
}

/** A request was held because the executor (Judge0) could not take it: one per failed try. */
export function executorUnavailableMetricLine(environment: string, fields: Record<string, unknown> = {}, now = Date.now()): string {
  return environmentMetricLine(environment, [{ name: 'ExecutorUnavailable', unit: 'Count', value: 1 }], fields, now);
}

/** The executor's health as this worker sees it (1 healthy, 0 not), sent with every heartbeat. */
export function executorHealthMetricLine(
  environment: string,
  healthy: boolean,
  fields: Record<string, unknown> = {},
  now = Date.now(),
): string {
  return environmentMetricLine(environment, [{ name: 'ExecutorHealthy', unit: 'Count', value: healthy ? 1 : 0 }], fields, now);
}
