/**
 * Per-key token buckets (the gateway keys them by user id and by client address). In memory, per
 * gateway instance: behind an ALB with N instances a user gets at most N times the rate, which is
 * the accepted trade for not needing a shared store.
 */

export interface TokenBucketOptions {
  /** Tokens a new key starts with, and the most it can hold (the burst). */
  capacity: number;
  /** Tokens added per second. */
  refillPerSecond: number;
  /** Keys tracked at most; the least recently used are forgotten first (a forgotten key starts full). */
  maxKeys?: number;
  /** Injected clock, ms. */
  now?: () => number;
}

export type TakeResult = { allowed: true; remaining: number } | { allowed: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class TokenBucketLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(private readonly opts: TokenBucketOptions) {
    if (!(opts.capacity >= 1)) throw new Error(`rate limit capacity must be >= 1 (got ${opts.capacity})`);
    if (!(opts.refillPerSecond > 0)) throw new Error(`rate limit refillPerSecond must be > 0 (got ${opts.refillPerSecond})`);
    this.maxKeys = opts.maxKeys ?? 100_000;
    this.now = opts.now ?? Date.now;
  }

  /** Takes one token for `key` if there is one; otherwise says how long until there will be. */
  take(key: string): TakeResult {
    const bucket = this.refill(key);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, remaining: Math.floor(bucket.tokens) };
    }
    const secondsToNextToken = (1 - bucket.tokens) / this.opts.refillPerSecond;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(secondsToNextToken)) };
  }

  /** Keys currently tracked (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  private refill(key: string): Bucket {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (bucket) {
      this.buckets.delete(key); // re-insert below: Map order doubles as LRU order
      const elapsedSeconds = Math.max(0, now - bucket.updatedAt) / 1000;
      bucket.tokens = Math.min(this.opts.capacity, bucket.tokens + elapsedSeconds * this.opts.refillPerSecond);
      bucket.updatedAt = now;
    } else {
      bucket = { tokens: this.opts.capacity, updatedAt: now };
    }
    this.buckets.set(key, bucket);
    this.evict();
    return bucket;
  }

  private evict(): void {
    while (this.buckets.size > this.maxKeys) {
      const oldest = this.buckets.keys().next().value as string;
      this.buckets.delete(oldest);
    }
  }
}
