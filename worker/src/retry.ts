/** Exponential back-off with jitter for transient failures (S3, database, broker). */
export interface RetryOptions {
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** Errors for which retrying cannot help are thrown at once. */
  retryable?: (error: unknown) => boolean;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

export async function withRetry<T>(what: () => Promise<T>, opts: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await what();
    } catch (error) {
      if (attempt >= opts.attempts || (opts.retryable && !opts.retryable(error))) throw error;
      const cap = Math.min(opts.maxDelayMs, opts.initialDelayMs * 2 ** (attempt - 1));
      const delay = Math.round(cap / 2 + (Math.random() * cap) / 2);
      opts.onRetry?.(error, attempt, delay);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
