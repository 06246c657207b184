/**
 * CloudWatch Embedded Metric Format: a log line that CloudWatch turns into metrics (graded count,
 * latency, by verdict), with no agent and no PutMetricData calls.
 */
export const METRIC_NAMESPACE = 'GradingStack/Worker';

export function gradedMetricLine(environment: string, verdict: string, latencyMs: number, fields: Record<string, unknown> = {}, now = Date.now()): string {
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
