/**
 * Consumes final grading results and runs the after-AC handler on each, acking only when it is
 * done. A result that must wait (a GitHub rate limit, a transient failure) stays unacked and is
 * handled again at its retry time; if this process or its connection dies meanwhile, the broker
 * redelivers it and the handler's idempotency (claims keyed by request id) makes that harmless.
 */
import { validateGradingResult } from '../../../core/src/contracts/result';
import type { Logger } from '../../../core/src/log';
import type { InboundMessage } from '../../../core/src/queue/stomp';
import type { BrokerSession } from '../../../core/src/queue/session';
import type { AcceptedResultHandler } from './onAccepted';

export interface ResultsConsumerOptions {
  /** e.g. /queue/grading-results. */
  destination: string;
  /** Results held at once (unacked), including those waiting to retry. Default 8. */
  prefetch?: number;
  /** Give up on a result after this many retries (logged; the verdict is untouched). Default 20. */
  maxRetries?: number;
  /** Longest wait between tries, ms (default 1 h). */
  maxDelayMs?: number;
  now?: () => number;
}

export class ResultsConsumer {
  private subscription?: { unsubscribe(): void };
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  readonly stats = { handled: 0, retried: 0, gaveUp: 0, malformed: 0 };

  constructor(
    private readonly session: BrokerSession,
    private readonly handler: AcceptedResultHandler,
    private readonly opts: ResultsConsumerOptions,
    private readonly log: Logger = () => undefined,
  ) {}

  start(): void {
    this.subscription = this.session.subscribe(
      this.opts.destination,
      (body, _headers, message) => this.track(this.process(body, message, 0)),
      {
        ack: 'client-individual',
        prefetch: this.opts.prefetch ?? 8,
      },
    );
  }

  /** Stops taking results; waits for those being handled; unacked ones go back to the broker. */
  async stop(): Promise<void> {
    this.subscription?.unsubscribe();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
  }

  private track(work: Promise<void>): void {
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
  }

  private async process(body: string, message: InboundMessage, retries: number): Promise<void> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
    const checked = validateGradingResult(parsed);
    if (!checked.ok) {
      this.stats.malformed++;
      this.log('warn', 'ignored a result that does not match the contract', { errors: checked.errors.slice(0, 5) });
      return this.ack(message);
    }
    const result = checked.value;
    let outcome;
    try {
      outcome = await this.handler.handle(result);
    } catch (error) {
      outcome = { kind: 'retry' as const, retryAt: (this.opts.now ?? Date.now)() + 30_000, reason: (error as Error).message };
    }
    if (outcome.kind !== 'retry') {
      this.stats.handled++;
      return this.ack(message);
    }
    if (retries >= (this.opts.maxRetries ?? 20)) {
      this.stats.gaveUp++;
      this.log('error', 'gave up on an accepted result', { requestId: result.requestId, reason: outcome.reason, retries });
      return this.ack(message);
    }
    this.stats.retried++;
    const delay = Math.min(Math.max(0, outcome.retryAt - (this.opts.now ?? Date.now)()), this.opts.maxDelayMs ?? 3_600_000);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.track(this.process(body, message, retries + 1));
    }, delay);
    this.timers.add(timer);
  }

  private async ack(message: InboundMessage): Promise<void> {
    // A message of a lost connection cannot be acked; the broker redelivers it and the handler is idempotent.
    await this.session.ack(message).catch(() => undefined);
  }
}
