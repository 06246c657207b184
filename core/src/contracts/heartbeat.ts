/**
 * The heartbeat message workers publish on a topic (default /topic/grading-heartbeat) and the
 * gateway reads to tell whether any worker is taking submissions (worker/src/ops/heartbeat.ts sends it).
 */
export const DEFAULT_HEARTBEAT_TOPIC = '/topic/grading-heartbeat';
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 10_000;

export interface HeartbeatMessage {
  type: 'heartbeat';
  workerId: string;
  environment: string;
  executor: string;
  /** False on the last beat of a worker that is shutting down. */
  accepting: boolean;
  executorHealthy: boolean;
  /** Why the executor is not healthy (never a secret: endpoint and HTTP status at most). */
  executorDetail?: string;
  inFlight: number;
  concurrency: number;
  intervalMs: number;
  sentAt: string;
}

/** A heartbeat from the topic, or undefined for anything that is not one. */
export function parseHeartbeat(body: string): HeartbeatMessage | undefined {
  try {
    const value = JSON.parse(body) as Partial<HeartbeatMessage>;
    if (value?.type !== 'heartbeat' || typeof value.workerId !== 'string' || typeof value.sentAt !== 'string') return undefined;
    return {
      ...value,
      accepting: value.accepting !== false,
      executorHealthy: value.executorHealthy !== false,
      inFlight: Number(value.inFlight) || 0,
      concurrency: Number(value.concurrency) || 0,
      intervalMs: Number(value.intervalMs) || DEFAULT_HEARTBEAT_INTERVAL_MS,
      executor: String(value.executor ?? 'unknown'),
      environment: String(value.environment ?? ''),
    } as HeartbeatMessage;
  } catch {
    return undefined;
  }
}

/** HEARTBEAT_TOPIC (name, default grading-heartbeat) and HEARTBEAT_INTERVAL_MS (default 10000). */
export function heartbeatSettingsFromEnv(env: Record<string, string | undefined>): { destination: string; intervalMs: number } {
  const interval = Number(env.HEARTBEAT_INTERVAL_MS);
  return {
    destination: env.HEARTBEAT_TOPIC ? `/topic/${env.HEARTBEAT_TOPIC}` : DEFAULT_HEARTBEAT_TOPIC,
    intervalMs: Number.isInteger(interval) && interval >= 100 ? interval : DEFAULT_HEARTBEAT_INTERVAL_MS,
  };
}
