/**
 * Exponential back-off with jitter for transient failures (S3, database, broker), and the
 * allow-list that says which failures are transient. Anything not on the list is thrown at once:
 * retrying a bug or a bad request only hides it for 30 s and then blames the infrastructure.
 */
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

/** Socket-level failures (Node's system error codes), whoever raised them. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** mysql2 errors that mean "the connection or the server is in trouble", not "the statement is wrong". */
const DATABASE_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'POOL_CLOSED',
  'ER_CON_COUNT_ERROR',
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_SERVER_SHUTDOWN',
  'ER_QUERY_INTERRUPTED',
  'ER_CONNECTION_KILLED',
  'ER_OPTION_PREVENTS_STATEMENT', // read-only during a Multi-AZ failover
]);

/** AWS SDK v3 error names for throttling and service trouble (its own retry strategy uses the same). */
const AWS_TRANSIENT_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'InternalError',
  'ServiceUnavailable',
  // The task role's credentials come over the network (ECS container endpoint); a blip there is transient.
  'CredentialsProviderError',
]);

interface ErrorFacts {
  name?: string;
  code?: string;
  errno?: string;
  fatal?: boolean;
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

/**
 * True for failures that retrying can fix: network errors, S3 5xx/429/throttling/timeouts,
 * database connection errors, deadlocks and lock timeouts. Broker sends are classified by the
 * caller (every failure of a send is a lost or missing connection).
 */
export function isTransientError(error: unknown): boolean {
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < 4; e = (e as ErrorFacts).cause, depth++) {
    const facts = e as ErrorFacts;
    if (facts.code && (NETWORK_CODES.has(facts.code) || DATABASE_CODES.has(facts.code))) return true;
    if (facts.errno && NETWORK_CODES.has(facts.errno)) return true;
    if (facts.name && AWS_TRANSIENT_NAMES.has(facts.name)) return true;
    if (facts.$retryable) return true;
    const status = facts.$metadata?.httpStatusCode;
    if (status !== undefined && (status >= 500 || status === 429)) return true;
    // mysql2 marks errors that broke the connection as fatal.
    if (facts.fatal === true && typeof facts.code === 'string' && facts.code.startsWith('PROTOCOL_')) return true;
  }
  return false;
}
