/**
 * In-memory stand-ins for the broker as the worker's consumer and outbox see it
 * (worker/src/consumer/types.ts MessageSource, worker/src/pipeline/ports.ts publishers).
 * They follow the real session's rules that the worker relies on: client-individual acks per
 * message, a message delivered on a lost connection cannot be acked (StaleMessageError), and
 * prefetch bounds what is pushed but not yet acked (core/src/queue/session.ts, stomp.ts).
 */
import { EventEmitter } from 'node:events';
import type { GradingProgressEvent } from '../../../core/src/contracts/progress';
import type { GradingResult } from '../../../core/src/contracts/result';
import { Headers, InboundMessage, StaleMessageError, SubscribeOptions } from '../../../core/src/queue/stomp';
import type { MessageSource } from '../../../worker/src/consumer/types';
import type { DeadLetter, DeadLetters, ProgressPublisher, ResultPublisher } from '../../../worker/src/pipeline/ports';

interface FakeSubscription {
  destination: string;
  handler: (body: string, headers: Headers, message: InboundMessage) => void;
  options: SubscribeOptions;
  active: boolean;
}

export class FakeMessageSource extends EventEmitter implements MessageSource {
  readonly subscriptions: FakeSubscription[] = [];
  readonly acked: InboundMessage[] = [];
  readonly nacked: InboundMessage[] = [];
  connectionId = 1;
  private nextId = 1;
  /** Make the next acks fail (e.g. with StaleMessageError). */
  ackError?: Error;

  subscribe(destination: string, handler: FakeSubscription['handler'], options: SubscribeOptions): { unsubscribe(): void } {
    const subscription = { destination, handler, options, active: true };
    this.subscriptions.push(subscription);
    return { unsubscribe: () => void (subscription.active = false) };
  }

  /** Pushes a message to the active subscription of `destination`, as the broker does. */
  deliver(destination: string, body: string, headers: Headers = {}): InboundMessage {
    const subscription = this.subscriptions.find((s) => s.destination === destination && s.active);
    if (!subscription) throw new Error(`no active subscription to ${destination}`);
    const message = {
      body,
      headers: { 'message-id': `ID:fake-${this.nextId++}`, destination, ...headers },
      connectionId: this.connectionId,
    };
    subscription.handler(body, message.headers, message);
    return message;
  }

  async ack(message: InboundMessage): Promise<void> {
    if (message.connectionId !== this.connectionId) throw new StaleMessageError();
    if (this.ackError) throw this.ackError;
    this.acked.push(message);
  }

  async nack(message: InboundMessage): Promise<void> {
    if (message.connectionId !== this.connectionId) throw new StaleMessageError();
    this.nacked.push(message);
  }

  /** The connection drops and comes back: messages delivered before can no longer be acked. */
  reconnect(): void {
    this.emit('disconnected');
    this.connectionId++;
    this.emit('connected');
  }

  /** Settled = acked or nacked. */
  settled(message: InboundMessage): 'acked' | 'nacked' | undefined {
    if (this.acked.includes(message)) return 'acked';
    if (this.nacked.includes(message)) return 'nacked';
    return undefined;
  }
}

/** Records what the pipeline publishes; `failPublish` makes grading-results sends fail (a lost broker). */
export class FakeOutbox implements ResultPublisher, ProgressPublisher, DeadLetters {
  readonly published: GradingResult[] = [];
  readonly replies: Array<{ destination: string; result: GradingResult; correlationId: string }> = [];
  readonly events: GradingProgressEvent[] = [];
  readonly deadLetters: DeadLetter[] = [];
  failPublish = 0;
  failReplies = false;

  async publish(result: GradingResult): Promise<void> {
    if (this.failPublish > 0) {
      this.failPublish--;
      throw new Error('not connected to the broker (fake)');
    }
    this.published.push(result);
  }

  async reply(destination: string, result: GradingResult, correlationId: string): Promise<void> {
    if (this.failReplies) throw new Error('ERROR frame: temporary destination does not exist (fake)');
    this.replies.push({ destination, result, correlationId });
  }

  async progress(event: GradingProgressEvent): Promise<void> {
    this.events.push(event);
  }

  async deadLetter(letter: DeadLetter): Promise<void> {
    this.deadLetters.push(letter);
  }

  publishedFor(requestId: string): GradingResult[] {
    return this.published.filter((r) => r.requestId === requestId);
  }
}
