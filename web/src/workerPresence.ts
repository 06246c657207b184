/**
 * Whether any worker is taking submissions, from the heartbeats workers publish on a topic
 * (core/src/contracts/heartbeat.ts; sent by worker/src/ops/heartbeat.ts). A worker counts while its last beat is younger than the window
 * (default 20 s: two missed beats of 10 s), so a dead worker drops out within the window and a
 * worker that shuts down drops out at once (its last beat says accepting: false).
 */
import { HeartbeatMessage, parseHeartbeat } from '../../core/src/contracts/heartbeat';

export const DEFAULT_PRESENCE_WINDOW_MS = 20_000;

export interface WorkerPresenceReport {
  /** ok: workers with a working executor; degraded: workers, but their executor fails; none; unknown: just started. */
  status: 'ok' | 'degraded' | 'none' | 'unknown';
  workers: number;
  /** For people: what this means for a submission. */
  message: string;
  lastHeartbeatAt: string | null;
}

export class WorkerPresence {
  private readonly seen = new Map<string, { message: HeartbeatMessage; at: number }>();
  private readonly startedAt: number;
  private lastAt?: number;

  constructor(
    private readonly windowMs = DEFAULT_PRESENCE_WINDOW_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now();
  }

  /** Feeds one message of the heartbeat topic (anything else is ignored). */
  observe(body: string): void {
    const message = parseHeartbeat(body);
    if (!message) return;
    const at = this.now();
    this.lastAt = at;
    if (message.accepting) this.seen.set(message.workerId, { message, at });
    else this.seen.delete(message.workerId);
  }

  report(): WorkerPresenceReport {
    const now = this.now();
    for (const [id, entry] of this.seen) if (now - entry.at > this.windowMs) this.seen.delete(id);
    const live = [...this.seen.values()].map((e) => e.message);
    const lastHeartbeatAt = this.lastAt === undefined ? null : new Date(this.lastAt).toISOString();
    if (live.length === 0) {
      if (this.lastAt === undefined && now - this.startedAt < this.windowMs) {
        return { status: 'unknown', workers: 0, message: 'waiting for worker heartbeats', lastHeartbeatAt };
      }
      const message = 'no worker is taking submissions: they wait in the queue until a worker is back';
      return { status: 'none', workers: 0, message, lastHeartbeatAt };
    }
    const healthy = live.filter((m) => m.executorHealthy);
    if (healthy.length === 0) {
      // The workers' own detail (Judge0's address, HTTP status) stays in their logs and metrics: this report is public.
      const message = `${live.length} worker(s) up, but their executor (${live[0].executor}) is unavailable; submissions wait`;
      return { status: 'degraded', workers: live.length, message, lastHeartbeatAt };
    }
    return { status: 'ok', workers: live.length, message: `${live.length} worker(s) taking submissions`, lastHeartbeatAt };
  }
}

/** WORKER_PRESENCE_WINDOW_MS and HEARTBEAT_TOPIC (the worker's own settings, shared). */
export function presenceSettingsFromEnv(env: Record<string, string | undefined>): { windowMs: number; topic: string } {
  const window = Number(env.WORKER_PRESENCE_WINDOW_MS);
  return {
    windowMs: Number.isInteger(window) && window >= 500 ? window : DEFAULT_PRESENCE_WINDOW_MS,
    topic: `/topic/${env.HEARTBEAT_TOPIC || 'grading-heartbeat'}`,
  };
}
