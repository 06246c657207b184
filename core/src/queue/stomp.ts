/**
 * The one module that touches stompit (1.0.0, unmaintained; its @types are stale): a single STOMP
 * connection with a promise API and our own types. Reconnection and failover live in session.ts.
 */
import { EventEmitter } from 'node:events';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const stompit: any = require('stompit');

export interface StompEndpoint {
  host: string;
  port: number;
  ssl: boolean;
}

/**
 * Parses `stomp+ssl://host:61614,stomp://host:61613` (Amazon MQ active/standby gives two endpoints).
 * stompit's own URI parser mishandles `stomp+ssl`, so we pass it plain server objects.
 */
export function parseEndpoints(list: string): StompEndpoint[] {
  const endpoints = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((uri) => {
      const match = /^(stomp|stomp\+ssl|ssl|tcp):\/\/([^:/]+):(\d+)\/?$/.exec(uri);
      if (!match) throw new Error(`Invalid STOMP endpoint "${uri}": expected stomp://host:port or stomp+ssl://host:port`);
      const port = Number(match[3]);
      if (port < 1 || port > 65535) throw new Error(`Invalid port in STOMP endpoint "${uri}"`);
      return { host: match[2], port, ssl: match[1] === 'stomp+ssl' || match[1] === 'ssl' };
    });
  if (endpoints.length === 0) throw new Error('No STOMP endpoint given');
  return endpoints;
}

export interface ConnectOptions {
  username?: string;
  password?: string;
  /** Heart-beat interval both ways, ms; 0 disables. Without it a dead broker is noticed only by TCP. */
  heartbeatMs?: number;
  connectTimeoutMs?: number;
  /**
   * PEM CA bundle for stomp+ssl endpoints. Absent: Node's public CAs (Amazon MQ's certificates chain
   * to them); locally, the services' own CA. The certificate and host name are always verified.
   */
  ca?: string;
}

export type Headers = Record<string, string>;

export interface InboundMessage {
  headers: Headers;
  body: string;
  /** Which connection delivered it: acks are only valid on that same connection. */
  connectionId: number;
}

export interface SubscribeOptions {
  ack: 'auto' | 'client-individual';
  /** activemq.prefetchSize: how many unacked messages the broker may push to this consumer. */
  prefetch?: number;
  selector?: string;
  headers?: Headers;
}

export interface Subscription {
  unsubscribe(): void;
}

let nextConnectionId = 1;

/**
 * One live STOMP connection. Emits 'closed' (with the error, if any) exactly once when it ends for
 * any reason; after that every operation rejects.
 */
export class StompConnection extends EventEmitter {
  readonly id = nextConnectionId++;
  private closed = false;

  private constructor(
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    private readonly client: any,
    readonly endpoint: StompEndpoint,
  ) {
    super();
    client.on('error', (error: Error) => this.markClosed(error));
    client.on('end', () => this.markClosed());
    client.on('close', () => this.markClosed());
  }

  static open(endpoint: StompEndpoint, opts: ConnectOptions = {}): Promise<StompConnection> {
    const heartbeat = opts.heartbeatMs ?? 10_000;
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        client?.destroy?.();
        reject(new Error(`STOMP connect to ${describe(endpoint)} timed out after ${opts.connectTimeoutMs ?? 10_000} ms`));
      }, opts.connectTimeoutMs ?? 10_000);
      const connectHeaders: Headers = { host: '/', 'heart-beat': `${heartbeat},${heartbeat}` };
      if (opts.username) connectHeaders.login = opts.username;
      if (opts.password) connectHeaders.passcode = opts.password;
      const client = stompit.connect(
        {
          host: endpoint.host,
          port: endpoint.port,
          ssl: endpoint.ssl,
          // Passed to tls.connect by stompit when ssl is set.
          ...(endpoint.ssl ? { ca: opts.ca, rejectUnauthorized: true } : {}),
          connectHeaders,
          // Generous margins: ActiveMQ's heart-beats arrive late under load and stompit would
          // otherwise drop healthy connections (stompit issue #27).
          heartbeatDelayMargin: Math.max(1000, heartbeat),
          heartbeatOutputMargin: Math.min(1000, Math.floor(heartbeat / 2)),
        },
        (error: Error | null) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (error) reject(new Error(`STOMP connect to ${describe(endpoint)} failed: ${error.message}`));
          else resolve(new StompConnection(client, endpoint));
        },
      );
      client.on('error', (error: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(new Error(`STOMP connect to ${describe(endpoint)} failed: ${error.message}`));
      });
    });
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Sends and waits for the broker's RECEIPT, so a persistent message is stored when this resolves. */
  send(destination: string, body: string, headers: Headers = {}): Promise<void> {
    if (this.closed) return Promise.reject(new Error('STOMP connection is closed'));
    return new Promise((resolve, reject) => {
      const onClosed = (error?: Error) => reject(error ?? new Error('STOMP connection closed before the receipt'));
      this.once('closed', onClosed);
      const frame = this.client.send(
        { 'content-type': 'application/json', ...headers, destination },
        {
          onReceipt: () => {
            this.removeListener('closed', onClosed);
            resolve();
          },
        },
      );
      frame.write(body);
      frame.end();
    });
  }

  subscribe(destination: string, opts: SubscribeOptions, onMessage: (message: InboundMessage) => void): Subscription {
    if (this.closed) throw new Error('STOMP connection is closed');
    const headers: Headers = { ...opts.headers, destination, ack: opts.ack };
    if (opts.prefetch !== undefined) headers['activemq.prefetchSize'] = String(Math.max(1, opts.prefetch));
    if (opts.selector) headers.selector = opts.selector;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const subscription = this.client.subscribe(headers, (error: Error | null, message: any) => {
      if (error) {
        this.markClosed(error);
        return;
      }
      message.readString('utf-8', (readError: Error | null, body: string) => {
        if (readError) {
          this.markClosed(readError);
          return;
        }
        onMessage({ headers: { ...message.headers }, body, connectionId: this.id });
      });
    });
    return {
      unsubscribe: () => {
        if (!this.closed) subscription.unsubscribe();
      },
    };
  }

  ack(message: InboundMessage): Promise<void> {
    return this.acknowledge('ack', message);
  }

  /** A STOMP NACK is a poison ack in ActiveMQ: redelivery plugin or DLQ decides what comes next. */
  nack(message: InboundMessage): Promise<void> {
    return this.acknowledge('nack', message);
  }

  private acknowledge(kind: 'ack' | 'nack', message: InboundMessage): Promise<void> {
    // ActiveMQ answers an ACK of a message delivered on another connection with an ERROR frame
    // ("Unexpected ACK received") and drops the connection: refuse instead; the broker redelivers it.
    if (message.connectionId !== this.id) return Promise.reject(new StaleMessageError());
    if (this.closed) return Promise.reject(new StaleMessageError());
    return new Promise((resolve, reject) => {
      const onClosed = (error?: Error) => reject(error ?? new StaleMessageError());
      this.once('closed', onClosed);
      this.client[kind](
        message as unknown,
        {},
        {
          onReceipt: () => {
            this.removeListener('closed', onClosed);
            resolve();
          },
        },
      );
    });
  }

  /** Graceful DISCONNECT; falls back to destroying the socket. */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.client.destroy();
        resolve();
      }, timeoutMs);
      this.client.disconnect(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.markClosed();
  }

  /** Drops the connection at once (tests, crash simulation). */
  destroy(): void {
    this.client.destroy();
    this.markClosed();
  }

  private markClosed(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('closed', error);
  }
}

/** The message came on a connection that is gone: the broker will redeliver it. */
export class StaleMessageError extends Error {
  constructor() {
    super('message was delivered on a connection that is closed; the broker will redeliver it');
    this.name = 'StaleMessageError';
  }
}

export function describe(endpoint: StompEndpoint): string {
  return `${endpoint.ssl ? 'stomp+ssl' : 'stomp'}://${endpoint.host}:${endpoint.port}`;
}
