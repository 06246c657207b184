/**
 * Reads a gateway event stream from Node (fetch + SseParser): what a back end, the local stack's
 * sample runner and the end-to-end tests use. One connection; to resume after it drops, call
 * again with the last event's id.
 */
import { ParsedSseEvent, SseParser } from './sse';

export interface ReadEventsOptions {
  lastEventId?: string;
  signal?: AbortSignal;
  /** Sent with the request, e.g. `{ authorization: 'Bearer <token>' }`. */
  headers?: Record<string, string>;
}

export async function* readEventStream(url: string, opts: ReadEventsOptions = {}): AsyncGenerator<ParsedSseEvent> {
  const headers: Record<string, string> = { ...opts.headers, accept: 'text/event-stream' };
  if (opts.lastEventId) headers['last-event-id'] = opts.lastEventId;
  const response = await fetch(url, { headers, signal: opts.signal });
  if (response.status === 204) return;
  if (!response.ok || !response.body) throw new Error(`GET ${url}: ${response.status} ${await response.text().catch(() => '')}`.trim());
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield* parser.feed(decoder.decode(value, { stream: true }));
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
