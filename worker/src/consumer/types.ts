/**
 * What the queue consumer and a processor agree on: a delivery goes in, an outcome comes out, and
 * the consumer alone talks to the broker about it (ack, hand back, or leave it for redelivery).
 */
import type { Headers, InboundMessage, SubscribeOptions } from '../../../core/src/queue/stomp';

/** One message as the processor sees it: its body, its headers and the destination it came from. */
export interface Delivery {
  body: string;
  headers: Headers;
  source: string;
}

/**
 * - `ack`: the outcome is durable and delivered; the broker may forget the message.
 * - `hand-back`: the outcome could not be recorded or delivered; NACK, so the broker's redelivery policy applies.
 * - `leave`: not ours to finish now (shutting down); left unacked, the broker redelivers it when the connection ends.
 */
export type Outcome = { action: 'ack' } | { action: 'hand-back'; error: unknown } | { action: 'leave' };

/** Decides what a delivery is and does it; `signal` aborts when the consumer stops. Resolves with the outcome, never rejects by design. */
export type Processor = (delivery: Delivery, signal: AbortSignal) => Promise<Outcome>;

/** The broker connection as the consumer uses it (core's BrokerSession is one). */
export interface MessageSource {
  subscribe(
    destination: string,
    handler: (body: string, headers: Headers, message: InboundMessage) => void,
    options: SubscribeOptions,
  ): { unsubscribe(): void };
  ack(message: InboundMessage): Promise<void>;
  nack(message: InboundMessage): Promise<void>;
  /** `disconnected`: unacked messages of that connection will be redelivered; `connected`: subscriptions are active again. */
  on(event: 'connected' | 'disconnected', listener: () => void): unknown;
}

/** Timers, injectable so tests can decide when the settle delay and the shutdown grace end. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): object;
  clearTimeout(timer: object): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
};
