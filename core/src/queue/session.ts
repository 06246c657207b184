/**
 * A broker session that survives the broker: connects to the first reachable endpoint (Amazon MQ
 * active/standby gives two, one active), reconnects with exponential back-off and jitter when the
 * connection drops, and re-subscribes everything on each new connection.
 */
import { EventEmitter } from 'node:events';
import {
  ConnectOptions,
  describe,
  Headers,
  InboundMessage,
  StaleMessageError,
  StompConnection,
  StompEndpoint,
  SubscribeOptions,
} from './stomp';

export interface SessionOptions extends ConnectOptions {
  endpoints: StompEndpoint[];
  /** First reconnect delay, ms (default 500), doubling up to maxBackoffMs (default 15000). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  log?: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
}

export type MessageHandler = (body: string, headers: Headers, message: InboundMessage) => void;

interface SubscriptionSpec {
  destination: string;
  options: SubscribeOptions;
  handler: MessageHandler;
  active?: { unsubscribe(): void };
}

export class BrokerSession extends EventEmitter {
  private connection?: StompConnection;
  private readonly subscriptions = new Set<SubscriptionSpec>();
  private closing = false;
  private attempt = 0;
  private endpointIndex = 0;
  private connecting?: Promise<void>;
  private waiters: Array<() => void> = [];
  /** When the last message arrived (health). */
  lastMessageAt?: Date;

  private constructor(private readonly opts: SessionOptions) {
    super();
  }

  /** Resolves once connected the first time; keeps trying in the background after that. */
  static async open(opts: SessionOptions, firstConnectTimeoutMs = 60_000): Promise<BrokerSession> {
    const session = new BrokerSession(opts);
    session.connectLoop();
    await session.waitConnected(firstConnectTimeoutMs);
    return session;
  }

  get connected(): boolean {
    return !!this.connection?.isOpen;
  }

  get endpoint(): string | undefined {
    return this.connection ? describe(this.connection.endpoint) : undefined;
  }

  /** Waits for a live connection (up to timeoutMs). */
  waitConnected(timeoutMs = 30_000): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        reject(new Error(`broker not reachable within ${timeoutMs} ms (${this.opts.endpoints.map(describe).join(', ')})`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push(done);
    });
  }

  /** Sends with a receipt on the current connection, waiting for one if the broker is away. */
  async send(destination: string, body: string, headers: Headers = {}, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.waitConnected(Math.max(1, deadline - Date.now()));
      try {
        await this.connection!.send(destination, body, headers);
        return;
      } catch (error) {
        if (this.closing || Date.now() >= deadline) throw error;
        // The connection died mid-send: the receipt never came, so send again on the next one.
        // Consumers are idempotent by requestId, so a duplicate is harmless.
      }
    }
  }

  subscribe(destination: string, handler: MessageHandler, options: SubscribeOptions = { ack: 'auto' }): { unsubscribe(): void } {
    const spec: SubscriptionSpec = { destination, options, handler };
    this.subscriptions.add(spec);
    if (this.connected) this.activate(spec, this.connection!);
    return {
      unsubscribe: () => {
        this.subscriptions.delete(spec);
        spec.active?.unsubscribe();
        spec.active = undefined;
      },
    };
  }

  ack(message: InboundMessage): Promise<void> {
    if (!this.connection || message.connectionId !== this.connection.id) return Promise.reject(new StaleMessageError());
    return this.connection.ack(message);
  }

  nack(message: InboundMessage): Promise<void> {
    if (!this.connection || message.connectionId !== this.connection.id) return Promise.reject(new StaleMessageError());
    return this.connection.nack(message);
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const spec of this.subscriptions) spec.active?.unsubscribe();
    this.subscriptions.clear();
    await this.connection?.close();
  }

  /** Drops the current connection as if the network failed (fault tests). */
  dropConnection(): void {
    this.connection?.destroy();
  }

  private activate(spec: SubscriptionSpec, connection: StompConnection): void {
    spec.active = connection.subscribe(spec.destination, spec.options, (message) => {
      this.lastMessageAt = new Date();
      spec.handler(message.body, message.headers, message);
    });
  }

  private connectLoop(): void {
    if (this.connecting || this.closing) return;
    this.connecting = (async () => {
      while (!this.closing) {
        const endpoint = this.opts.endpoints[this.endpointIndex % this.opts.endpoints.length];
        try {
          const connection = await StompConnection.open(endpoint, this.opts);
          if (this.closing) {
            await connection.close();
            return;
          }
          this.attempt = 0;
          this.connection = connection;
          connection.once('closed', (error?: Error) => this.onClosed(connection, error));
          for (const spec of this.subscriptions) this.activate(spec, connection);
          this.opts.log?.('info', 'broker connected', { endpoint: describe(endpoint) });
          this.emit('connected', describe(endpoint));
          const waiters = this.waiters;
          this.waiters = [];
          waiters.forEach((w) => w());
          return;
        } catch (error) {
          // Try the other endpoint next: with active/standby only one accepts connections.
          this.endpointIndex++;
          const delay = this.backoff();
          this.opts.log?.('warn', 'broker connect failed', {
            endpoint: describe(endpoint),
            error: (error as Error).message,
            retryInMs: delay,
          });
          await new Promise((r) => setTimeout(r, delay));
        }
      }
    })().finally(() => {
      this.connecting = undefined;
    });
  }

  private onClosed(connection: StompConnection, error?: Error): void {
    if (this.connection !== connection) return;
    for (const spec of this.subscriptions) spec.active = undefined;
    if (this.closing) return;
    this.opts.log?.('warn', 'broker connection lost', { error: error?.message });
    this.emit('disconnected', error);
    this.endpointIndex++;
    this.connectLoop();
  }

  private backoff(): number {
    const base = this.opts.initialBackoffMs ?? 500;
    const max = this.opts.maxBackoffMs ?? 15_000;
    const delay = Math.min(max, base * 2 ** this.attempt++);
    return Math.round(delay / 2 + (Math.random() * delay) / 2);
  }
}
