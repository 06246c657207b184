/**
 * The worker's heartbeat: every few seconds a small message on a topic (default
 * /topic/grading-heartbeat) saying who it is, whether it takes submissions, what it is doing and
 * whether its executor works, so the gateway can tell "no worker is taking submissions" instead of
 * waiting forever. Each beat also writes the executor's health as an EMF metric (ExecutorHealthy),
 * which the judge0-unhealthy alarm watches. Best effort: a lost beat only ages the worker by one
 * interval.
 */
import * as os from 'node:os';
import { DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_HEARTBEAT_TOPIC, HeartbeatMessage } from '../../../core/src/contracts/heartbeat';
import { executorHealthMetricLine } from '../metrics';

export interface ExecutorHealth {
  healthy: boolean;
  detail?: string;
}

export interface HeartbeatOptions {
  send(destination: string, body: string, headers: Record<string, string>): Promise<void>;
  destination?: string;
  intervalMs?: number;
  workerId?: string;
  environment: string;
  /** What the worker is doing now. */
  snapshot(): { executor: string; inFlight: number; concurrency: number; executorAvailable: boolean; executorError?: string };
  /** An active check of the executor (Judge0's /workers); without it, the last grading's experience counts. */
  probe?: () => Promise<ExecutorHealth>;
  metrics?: (line: string) => void;
  log?: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
}

export class Heartbeat {
  private timer?: NodeJS.Timeout;
  private beating?: Promise<void>;
  readonly workerId: string;
  readonly intervalMs: number;

  constructor(private readonly opts: HeartbeatOptions) {
    this.workerId = opts.workerId ?? `${os.hostname()}-${process.pid}`;
    this.intervalMs = opts.intervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
  }

  start(): void {
    if (this.timer) return;
    void this.beat(true);
    this.timer = setInterval(() => void this.beat(true), this.intervalMs);
    this.timer.unref();
  }

  /** Stops beating and says so at once, so the gateway does not count this worker for another window. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.beating?.catch(() => undefined);
    await this.beat(false);
  }

  /** One beat (exported for tests): probe, metric, message. Never throws. */
  async beat(accepting: boolean): Promise<void> {
    const run = async () => {
      const now = this.opts.snapshot();
      let health: ExecutorHealth = { healthy: now.executorAvailable, detail: now.executorError };
      if (this.opts.probe) {
        health = await this.opts.probe().catch((error: Error) => ({ healthy: false, detail: `probe failed: ${error.message}` }));
      }
      const fields = { workerId: this.workerId, executor: now.executor, detail: health.detail };
      this.opts.metrics?.(executorHealthMetricLine(this.opts.environment, health.healthy, fields));
      const message: HeartbeatMessage = {
        type: 'heartbeat',
        workerId: this.workerId,
        environment: this.opts.environment,
        executor: now.executor,
        accepting,
        executorHealthy: health.healthy,
        ...(health.detail ? { executorDetail: health.detail.slice(0, 300) } : {}),
        inFlight: now.inFlight,
        concurrency: now.concurrency,
        intervalMs: this.intervalMs,
        sentAt: new Date().toISOString(),
      };
      const destination = this.opts.destination ?? DEFAULT_HEARTBEAT_TOPIC;
      await this.opts.send(destination, JSON.stringify(message), { 'content-type': 'application/json' });
    };
    this.beating = run().catch((error: Error) => this.opts.log?.('warn', 'heartbeat not sent', { error: error.message }));
    await this.beating;
  }
}

/**
 * Judge0's own health as the worker sees it: GET /workers (judge0 v1.13.1 config/routes.rb:26
 * `get 'workers', to: 'health#workers'`; app/controllers/health_controller.rb answers 200 with one entry per
 * Resque queue, {queue, size, available, idle, working, paused, failed}). A queue appears only once a job was
 * pushed to it, so a Judge0 that has run nothing yet answers `[]`: that is not an outage. Authenticated like
 * every route (SessionsController: X-Auth-Token).
 */
export function judge0HealthProbe(baseUrl: string, authToken?: string, timeoutMs = 5000): () => Promise<ExecutorHealth> {
  const url = `${baseUrl.replace(/\/+$/, '')}/workers`;
  return async () => {
    let response: Response;
    try {
      response = await fetch(url, { headers: authToken ? { 'X-Auth-Token': authToken } : {}, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      return { healthy: false, detail: `Judge0 unreachable at ${url}: ${(error as Error).message}` };
    }
    if (response.status === 401) return { healthy: false, detail: 'Judge0 rejected the auth token (HTTP 401)' };
    const body = await response.json().catch(() => undefined);
    if (!response.ok || !Array.isArray(body)) {
      return {
        healthy: false,
        detail: `Judge0 /workers answered HTTP ${response.status}${Array.isArray(body) ? '' : ' without a queue list'}`,
      };
    }
    const queues = body as Array<{ queue?: string; size?: number; available?: number }>;
    if (!queues.length) return { healthy: true };
    const available = queues.reduce((sum, q) => sum + (Number(q.available) || 0), 0);
    const queued = queues.reduce((sum, q) => sum + (Number(q.size) || 0), 0);
    return available > 0 ? { healthy: true } : { healthy: false, detail: `Judge0 reports no available workers (${queued} job(s) waiting)` };
  };
}
