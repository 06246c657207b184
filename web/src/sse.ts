/**
 * Server-Sent Events wire format (WHATWG HTML "server-sent events"): framing of events and
 * comments, and the event-id codec that makes resuming work on any gateway instance.
 *
 * Test cases may finish in any order, and a reconnect may land on another instance behind the
 * load balancer, so an event id cannot be a per-connection counter. Instead each case event's id
 * names the whole set of cases delivered so far on that stream (a bitmap, base64url): whoever
 * receives it in Last-Event-ID knows exactly which cases are still missing, without shared state.
 */

export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
  /** Reconnection delay the browser should use, ms. */
  retry?: number;
}

/** One event frame. Multi-line data becomes several `data:` lines, as the spec requires. */
export function formatSseEvent(event: SseEvent): string {
  let frame = '';
  if (event.id !== undefined) frame += `id: ${singleLine(event.id, 'id')}\n`;
  if (event.event !== undefined) frame += `event: ${singleLine(event.event, 'event')}\n`;
  if (event.retry !== undefined) frame += `retry: ${Math.max(0, Math.floor(event.retry))}\n`;
  for (const line of event.data.split(/\r\n|\r|\n/)) frame += `data: ${line}\n`;
  return `${frame}\n`;
}

/** A comment line: ignored by EventSource, keeps proxies and load balancers from closing an idle stream. */
export function formatSseComment(text = ''): string {
  return `: ${text.replace(/[\r\n]+/g, ' ')}\n\n`;
}

function singleLine(value: string, field: string): string {
  if (/[\r\n\0]/.test(value)) throw new Error(`SSE ${field} must not contain line breaks or NUL`);
  return value;
}

/** Test case numbers an id can name (1-based, as in {n}.in); also bounds the bitmap a client can make us decode. */
export const MAX_CASE_NUMBER = 4096;

/** Event id of the final event; a client reconnecting with it has everything. */
export const FINAL_EVENT_ID = 'final';

/** What a stream has delivered so far, as told by an event id. */
export interface StreamPosition {
  cases: Set<number>;
  final: boolean;
}

export function emptyPosition(): StreamPosition {
  return { cases: new Set(), final: false };
}

/** The id to put on a case event, given every case delivered so far including this one. */
export function encodeCasesId(cases: Iterable<number>): string {
  let highest = 0;
  for (const n of cases) {
    if (!Number.isInteger(n) || n < 1 || n > MAX_CASE_NUMBER) throw new Error(`test case number must be 1..${MAX_CASE_NUMBER} (got ${n})`);
    highest = Math.max(highest, n);
  }
  const bitmap = Buffer.alloc(Math.ceil(highest / 8));
  for (const n of cases) bitmap[(n - 1) >> 3] |= 1 << ((n - 1) & 7);
  return `c${bitmap.toString('base64url')}`;
}

/**
 * Reads a Last-Event-ID header. Anything unrecognised (absent, garbage, from an older format)
 * means "nothing delivered": the client gets the full stream again, never a gap.
 */
export function decodeEventId(id: string | undefined | null): StreamPosition {
  if (!id) return emptyPosition();
  const trimmed = id.trim();
  if (trimmed === FINAL_EVENT_ID) return { cases: new Set(), final: true };
  if (!/^c[A-Za-z0-9_-]*$/.test(trimmed) || trimmed.length > 2 + Math.ceil(MAX_CASE_NUMBER / 6)) return emptyPosition();
  const bitmap = Buffer.from(trimmed.slice(1), 'base64url');
  const cases = new Set<number>();
  for (let byte = 0; byte < bitmap.length; byte++) {
    for (let bit = 0; bit < 8; bit++) {
      if (bitmap[byte] & (1 << bit)) cases.add(byte * 8 + bit + 1);
    }
  }
  return { cases, final: false };
}

export interface ParsedSseEvent {
  id?: string;
  event: string;
  data: string;
}

/**
 * Incremental SSE parser (the client side of the same spec), for Node consumers of the stream:
 * feed it chunks as they arrive, get whole events back. Comments are dropped; `retry` is ignored.
 */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private id: string | undefined;
  /** The last id seen, as EventSource would send it in Last-Event-ID. */
  lastEventId: string | undefined;

  feed(chunk: string): ParsedSseEvent[] {
    this.buffer += chunk;
    const events: ParsedSseEvent[] = [];
    let newline: number;
    while ((newline = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, newline);
      // A lone \r at the end of a chunk may be the first half of \r\n: wait for more.
      if (this.buffer[newline] === '\r' && newline === this.buffer.length - 1) break;
      this.buffer = this.buffer.slice(newline + (this.buffer.startsWith('\r\n', newline) ? 2 : 1));
      if (line === '') {
        if (this.data.length)
          events.push({ ...(this.id !== undefined ? { id: this.id } : {}), event: this.event || 'message', data: this.data.join('\n') });
        this.data = [];
        this.event = '';
        this.id = undefined;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') this.data.push(value);
      else if (field === 'event') this.event = value;
      else if (field === 'id' && !value.includes('\0')) this.id = this.lastEventId = value;
    }
    return events;
  }
}
