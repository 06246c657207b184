/**
 * The queue loop, knowing nothing about grading (BullMQ's Worker to the pipeline's processor):
 * subscribes to a priority and a normal queue, buffers what the broker pushes (prefetch =
 * concurrency per queue), hands at most `concurrency` deliveries at a time to the processor, the
 * priority queue's first, and acts on each outcome: ack, hand back (NACK), or leave it unacked.
 *
 * A message is acked only after the processor resolved with `ack`, i.e. its outcome is durable.
 * Buffered messages are never acked: when the connection drops or the consumer stops they are
 * dropped from the buffer and the broker redelivers them (unacked messages of a closed connection or
 * subscription go back to the queue without counting as a failed delivery, unlike a NACK).
 */
import type { Logger } from '../../../core/src/log';
import { InboundMessage, StaleMessageError } from '../../../core/src/queue/stomp';
import { Clock, MessageSource, Outcome, Processor, systemClock } from './types';

export interface ConsumerOptions {
  /** Taken first whenever both queues have a message waiting. */
  priorityQueue: string;
  normalQueue: string;
  /** Deliveries processed at once; also each subscription's prefetch. */
  concurrency: number;
  /**
   * After (re)subscribing, dispatch waits this long: both queues' first messages arrive within
   * milliseconds, and a priority message already queued should go first. Default 250.
   */
  settleMs?: number;
  clock?: Clock;
  log: Logger;
}

interface Buffered {
  message: InboundMessage;
  source: string;
}

const DEFAULT_SETTLE_MS = 250;

export class QueueConsumer {
  private readonly priorityBuffer: Buffered[] = [];
  private readonly normalBuffer: Buffered[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private subscriptions: Array<{ unsubscribe(): void }> = [];
  private readonly stopping = new AbortController();
  /** Dispatch waits until then after (re)subscribing (see settleMs). */
  private dispatchFrom = 0;
  private dispatchTimer?: object;
  private readonly clock: Clock;

  constructor(
    private readonly source: MessageSource,
    private readonly processor: Processor,
    private readonly opts: ConsumerOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Received and not yet handed to the processor. */
  get bufferedCount(): number {
    return this.priorityBuffer.length + this.normalBuffer.length;
  }

  start(): void {
    const { priorityQueue, normalQueue, concurrency } = this.opts;
    const subscribe = (destination: string, buffer: Buffered[]) =>
      this.source.subscribe(
        destination,
        (_body, headers, message) => {
          this.opts.log('debug', 'message received', { destination, messageId: headers['message-id'], redelivered: headers.redelivered });
          buffer.push({ message, source: destination });
          this.pump();
        },
        { ack: 'client-individual', prefetch: concurrency },
      );
    this.settle();
    this.subscriptions = [subscribe(priorityQueue, this.priorityBuffer), subscribe(normalQueue, this.normalBuffer)];
    // Buffered messages of a lost connection can no longer be acked; the broker redelivers them.
    this.source.on('disconnected', () => this.dropBuffered());
    this.source.on('connected', () => this.settle());
  }

  /** Stops taking messages, lets in-flight deliveries finish within graceMs; the rest is redelivered by the broker. */
  async stop(graceMs: number): Promise<void> {
    this.stopping.abort();
    for (const s of this.subscriptions) s.unsubscribe();
    this.dropBuffered();
    if (this.dispatchTimer) this.clock.clearTimeout(this.dispatchTimer);
    this.dispatchTimer = undefined;
    let graceTimer: object | undefined;
    const drained = Promise.all([...this.inFlight]).then(() => true);
    // Cleared once drained, so it never holds the process open.
    const timedOut = new Promise<boolean>((resolve) => (graceTimer = this.clock.setTimeout(() => resolve(false), graceMs)));
    const finished = await Promise.race([drained, timedOut]);
    if (finished && graceTimer) this.clock.clearTimeout(graceTimer);
    const message = finished ? 'worker drained' : 'shutdown grace expired; unfinished work will be redelivered';
    this.opts.log(finished ? 'info' : 'warn', message, { inFlight: this.inFlight.size });
  }

  private settle(): void {
    this.dispatchFrom = this.clock.now() + (this.opts.settleMs ?? DEFAULT_SETTLE_MS);
  }

  private dropBuffered(): void {
    this.priorityBuffer.length = 0;
    this.normalBuffer.length = 0;
  }

  private pump(): void {
    if (this.stopping.signal.aborted) return;
    const wait = this.dispatchFrom - this.clock.now();
    if (wait > 0) {
      this.dispatchTimer ??= this.clock.setTimeout(() => {
        this.dispatchTimer = undefined;
        this.pump();
      }, wait);
      return;
    }
    while (this.inFlight.size < this.opts.concurrency) {
      const next = this.priorityBuffer.shift() ?? this.normalBuffer.shift();
      if (!next) return;
      this.opts.log('debug', 'message dispatched', { destination: next.source, messageId: next.message.headers['message-id'] });
      const job: Promise<void> = this.run(next).finally(() => {
        this.inFlight.delete(job);
        this.pump();
      });
      this.inFlight.add(job);
    }
  }

  private async run({ message, source }: Buffered): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = await this.processor({ body: message.body, headers: message.headers, source }, this.stopping.signal);
    } catch (error) {
      // A processor resolves with an outcome; one that throws has none, and holding the message would block a slot.
      this.opts.log('error', 'unhandled error while handling a message', { error: (error as Error)?.stack ?? String(error) });
      outcome = { action: 'hand-back', error };
    }
    if (outcome.action === 'ack') await this.ack(message);
    else if (outcome.action === 'hand-back') await this.handBack(message, outcome.error);
  }

  private async ack(message: InboundMessage): Promise<void> {
    try {
      await this.source.ack(message);
    } catch (error) {
      // The connection that delivered it is gone; the broker redelivers and the stored result is re-published.
      const level = error instanceof StaleMessageError ? 'info' : 'warn';
      this.opts.log(level, 'ack not delivered; the broker will redeliver', { error: (error as Error).message });
    }
  }

  /** Could not record or deliver an outcome: hand the message back (the broker's redelivery policy applies) rather than lose or hold it. */
  private async handBack(message: InboundMessage, error: unknown): Promise<void> {
    const detail = { error: (error as Error)?.message ?? String(error) };
    this.opts.log('error', 'could not record or deliver the outcome; returning the message for redelivery', detail);
    await this.source.nack(message).catch(() => undefined);
  }
}
