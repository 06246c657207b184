/**
 * Live progress fan-out inside one gateway instance. Every instance subscribes to the progress
 * topic and feeds each event here; SSE streams and GradingClient.events() listen per request id.
 *
 * A short, bounded buffer per request lets a stream that opens late (or reconnects) catch up on
 * what the topic already said. It is a cache, not the record: once a result is final the database
 * has it, and streams synthesize anything the buffer lost from it (see eventCursor.ts).
 */
import type { ProgressItem } from './progressItems';

export interface ProgressHubOptions {
  /** How long a request's events stay after its last event, ms. */
  ttlMs?: number;
  /** Requests buffered at most; the least recently updated go first. */
  maxRequests?: number;
  /** Events buffered per request at most (the final result is always kept). */
  maxEventsPerRequest?: number;
  now?: () => number;
}

type Listener = (item: ProgressItem) => void;

interface Buffer {
  items: ProgressItem[];
  updatedAt: number;
}

export class ProgressHub {
  private readonly buffers = new Map<string, Buffer>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly ttlMs: number;
  private readonly maxRequests: number;
  private readonly maxEventsPerRequest: number;
  private readonly now: () => number;

  constructor(opts: ProgressHubOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 10 * 60_000;
    this.maxRequests = opts.maxRequests ?? 10_000;
    this.maxEventsPerRequest = opts.maxEventsPerRequest ?? 1_000;
    this.now = opts.now ?? Date.now;
  }

  publish(item: ProgressItem): void {
    const now = this.now();
    this.prune(now);
    const existing = this.buffers.get(item.requestId);
    const buffer = existing && now - existing.updatedAt < this.ttlMs ? existing : { items: [], updatedAt: now };
    this.buffers.delete(item.requestId); // re-insert: Map order is last-update order
    if (item.kind === 'final' || buffer.items.length < this.maxEventsPerRequest) buffer.items.push(item);
    buffer.updatedAt = now;
    this.buffers.set(item.requestId, buffer);
    while (this.buffers.size > this.maxRequests) this.buffers.delete(this.buffers.keys().next().value as string);

    for (const listener of [...(this.listeners.get(item.requestId) ?? [])]) {
      try {
        listener(item);
      } catch {
        // One broken stream must not stop the others.
      }
    }
  }

  /** Buffered events of a request, oldest first (empty when unknown or expired). */
  snapshot(requestId: string): ProgressItem[] {
    const buffer = this.buffers.get(requestId);
    if (!buffer || this.now() - buffer.updatedAt >= this.ttlMs) return [];
    return [...buffer.items];
  }

  /** Calls `listener` for every event of `requestId` from now on; returns the unsubscribe function. */
  listen(requestId: string, listener: Listener): () => void {
    let set = this.listeners.get(requestId);
    if (!set) this.listeners.set(requestId, (set = new Set()));
    set.add(listener);
    return () => {
      set!.delete(listener);
      if (set!.size === 0 && this.listeners.get(requestId) === set) this.listeners.delete(requestId);
    };
  }

  get bufferedRequests(): number {
    return this.buffers.size;
  }

  get listenerCount(): number {
    let count = 0;
    for (const set of this.listeners.values()) count += set.size;
    return count;
  }

  private prune(now: number): void {
    for (const [requestId, buffer] of this.buffers) {
      if (now - buffer.updatedAt < this.ttlMs) break;
      this.buffers.delete(requestId);
    }
  }
}
