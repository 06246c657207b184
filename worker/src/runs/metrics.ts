/** CloudWatch EMF for runs with custom input: how many ran, how they ended, how long they took (apart from gradings). */
import { METRIC_NAMESPACE } from '../metrics';

export function runMetricLine(
  environment: string,
  status: string,
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
          Dimensions: [['Environment'], ['Environment', 'RunStatus']],
          Metrics: [
            { Name: 'Runs', Unit: 'Count' },
            { Name: 'RunLatency', Unit: 'Milliseconds' },
          ],
        },
      ],
    },
    Environment: environment,
    RunStatus: status,
    Runs: 1,
    RunLatency: Math.round(latencyMs),
    ...fields,
  })}\n`;
}
