/** Test-side STOMP helpers: publish, and collect what arrives on a queue within a time bound. */
import { InboundMessage, StompConnection } from '../../core/src/queue/stomp';
import type { LocalActiveMq } from '../../scripts/services/activemq';

export function connectTo(broker: LocalActiveMq): Promise<StompConnection> {
  const { endpoints, ...options } = broker.connectOptions();
  return StompConnection.open(endpoints[0], { ...options, heartbeatMs: 0 });
}

/** Resolves with the first `count` messages on `destination` (auto-acked), or rejects after `timeoutMs`. */
export function collect(conn: StompConnection, destination: string, count: number, timeoutMs: number): Promise<InboundMessage[]> {
  return new Promise((resolve, reject) => {
    const received: InboundMessage[] = [];
    const timer = setTimeout(() => {
      sub.unsubscribe();
      reject(new Error(`expected ${count} message(s) on ${destination} within ${timeoutMs} ms, got ${received.length}`));
    }, timeoutMs);
    const sub = conn.subscribe(destination, { ack: 'auto' }, (message) => {
      received.push(message);
      if (received.length === count) {
        clearTimeout(timer);
        sub.unsubscribe();
        resolve(received);
      }
    });
  });
}
