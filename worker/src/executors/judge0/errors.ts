/**
 * Typed answers of a Judge0 server that the adapter acts on (judge0/judge0 v1.13.1
 * submissions_controller.rb, sessions_controller.rb). The unavailable ones extend
 * ExecutorUnavailableError, so the worker holds the request instead of judging it.
 */
import { ExecutorUnavailableError } from '../port';

/** 503 {"error":"queue is full"}: more queued jobs than MAX_QUEUE_SIZE (submissions_controller.rb:207-212). */
export class Judge0QueueFullError extends ExecutorUnavailableError {
  constructor(retryAfterMs = 1000) {
    super('Judge0 queue is full (MAX_QUEUE_SIZE)', retryAfterMs);
    this.name = 'Judge0QueueFullError';
  }
}

/** Any other 503: maintenance mode (sessions_controller.rb:32-39) or a proxy in front of Judge0. */
export class Judge0MaintenanceError extends ExecutorUnavailableError {
  constructor(detail: string, retryAfterMs: number) {
    super(`Judge0 is unavailable (HTTP 503${detail ? `: ${detail}` : ''}); maintenance mode?`, retryAfterMs);
    this.name = 'Judge0MaintenanceError';
  }
}

/** 401/403: wrong or missing X-Auth-Token, or an IP not allowed (sessions_controller.rb:16-25). */
export class Judge0AuthError extends ExecutorUnavailableError {
  constructor(status: number) {
    super(`Judge0 rejected the auth token (HTTP ${status}); check /<env>/judge0/auth-token`);
    this.name = 'Judge0AuthError';
  }
}

/** 400 with {"error": "..."}: a request Judge0 refuses as configured (wait, batching, fields, batch size). */
export class Judge0BadRequestError extends Error {
  constructor(
    readonly path: string,
    readonly error: string,
  ) {
    super(`Judge0 refused ${path}: ${error}`);
    this.name = 'Judge0BadRequestError';
  }

  get batchingDisabled(): boolean {
    return this.error === 'batched submissions are not allowed'; // submissions_controller.rb:201-205
  }
}

/** Any other answer the adapter does not expect (404, 5xx after retries are unavailability instead). */
export class Judge0HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`Judge0 answered ${status}: ${body.slice(0, 200)}`);
    this.name = 'Judge0HttpError';
  }
}
