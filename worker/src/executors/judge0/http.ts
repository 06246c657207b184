/**
 * One Judge0 HTTP call: timeout, retries with jittered back-off on network errors and 5xx, the
 * circuit breaker's bookkeeping, and Judge0's answers turned into typed errors (errors.ts).
 */
import { ExecutorUnavailableError } from '../port';
import { CircuitBreaker } from './circuitBreaker';
import { Judge0AuthError, Judge0BadRequestError, Judge0HttpError, Judge0MaintenanceError, Judge0QueueFullError } from './errors';

export interface Judge0HttpOptions {
  baseUrl: string;
  authToken?: string;
  requestTimeoutMs: number;
  requestAttempts: number;
  maintenanceRetryMs: number;
  breaker: CircuitBreaker;
  onRequest?: (method: string, path: string) => void;
  sleep: (ms: number) => Promise<void>;
}

export interface Judge0Answer<T> {
  status: number;
  body: T;
}

export class Judge0Http {
  readonly baseUrl: string;

  constructor(private readonly opts: Judge0HttpOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
  }

  async get<T>(path: string): Promise<T> {
    return (await this.call<T>('GET', path)).body;
  }

  /** POST; 201 and 422 (per-item validation errors) are both answers, returned with their status. */
  post<T>(path: string, body: unknown): Promise<Judge0Answer<T>> {
    return this.call<T>('POST', path, body, [422]);
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown, accepted: number[] = []): Promise<Judge0Answer<T>> {
    const route = path.split('?')[0];
    let lastError: Error = new Error('no attempt made');
    for (let attempt = 1; attempt <= this.opts.requestAttempts; attempt++) {
      const waitMs = this.opts.breaker.acquire();
      if (waitMs > 0)
        throw new ExecutorUnavailableError(`Judge0 circuit open after repeated failures; retry in ${Math.ceil(waitMs / 1000)} s`, waitMs);
      this.opts.onRequest?.(method, route);
      let status: number;
      let text: string;
      try {
        const response = await fetch(`${this.baseUrl}${path}`, {
          method,
          headers: { 'content-type': 'application/json', ...(this.opts.authToken ? { 'X-Auth-Token': this.opts.authToken } : {}) },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.opts.requestTimeoutMs),
        });
        status = response.status;
        text = await response.text();
      } catch (error) {
        this.opts.breaker.failure();
        lastError = error as Error;
        if (attempt < this.opts.requestAttempts) await this.backOff(attempt);
        continue;
      }
      if (status >= 500 && status !== 503) {
        this.opts.breaker.failure();
        lastError = new Judge0HttpError(status, text);
        if (attempt < this.opts.requestAttempts) await this.backOff(attempt);
        continue;
      }
      if (status === 401 || status === 403) {
        this.opts.breaker.failure();
        throw new Judge0AuthError(status);
      }
      // Anything else means Judge0 itself answered: busy or refusing is not broken.
      this.opts.breaker.success();
      const error = errorText(text);
      if (status === 503)
        throw error === 'queue is full' ? new Judge0QueueFullError() : new Judge0MaintenanceError(error, this.opts.maintenanceRetryMs);
      if ((status >= 200 && status < 300) || accepted.includes(status)) return { status, body: parse<T>(text, method, route) };
      if (status === 400) throw new Judge0BadRequestError(`${method} ${route}`, error || text.slice(0, 200));
      throw new Judge0HttpError(status, text);
    }
    throw new ExecutorUnavailableError(`Judge0 unreachable after ${this.opts.requestAttempts} tries: ${lastError.message}`);
  }

  private backOff(attempt: number): Promise<void> {
    return this.opts.sleep(Math.min(4000, 200 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2));
  }
}

function parse<T>(text: string, method: string, route: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ExecutorUnavailableError(`Judge0 answered ${method} ${route} with something that is not JSON: ${text.slice(0, 100)}`);
  }
}

function errorText(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    return typeof parsed?.error === 'string' ? parsed.error : '';
  } catch {
    return '';
  }
}
