/**
 * The pipeline's broker ports (ResultPublisher, ProgressPublisher, DeadLetters) over STOMP
 * sessions: which destination, which headers. Replies to reply-to go on their own connection when
 * one is given: a reply to a temporary queue whose requester has gone makes ActiveMQ answer with an
 * ERROR frame, and an ERROR frame ends the STOMP connection it came on.
 */
import type { GradingProgressEvent } from '../../../core/src/contracts/progress';
import type { GradingResult } from '../../../core/src/contracts/result';
import type { Headers } from '../../../core/src/queue/stomp';
import type { DeadLetter, DeadLetters, ProgressPublisher, ResultPublisher } from '../pipeline/ports';
import type { Destinations } from '../pipeline/rules';

/** A broker connection as the outbox uses it (core's BrokerSession is one). */
export interface MessageSink {
  send(destination: string, body: string, headers?: Headers, timeoutMs?: number): Promise<void>;
}

/** DLQ headers: selector-safe names (JMS selectors cannot name hyphenated properties) and, for one release, the old ones. */
export const DLQ_HEADERS = {
  reason: ['grading_error_reason', 'x-error-reason'],
  detail: ['grading_error_detail', 'x-error-detail'],
  originalDestination: ['grading_original_destination', 'x-original-destination'],
  originalMessageId: ['grading_original_message_id', 'x-original-message-id'],
  failedAt: ['grading_failed_at', 'x-failed-at'],
} as const;

/** Best-effort sends (progress, replies) give up after this long rather than hold a grading. */
const BEST_EFFORT_TIMEOUT_MS = 5000;

export class StompOutbox implements ResultPublisher, ProgressPublisher, DeadLetters {
  constructor(
    private readonly session: MessageSink,
    private readonly destinations: Pick<Destinations, 'results' | 'dlq' | 'progress'>,
    /** A second connection for reply-to sends; without one, replies share `session` (and a failed one costs it a reconnect). */
    private readonly replies: MessageSink = session,
  ) {}

  async publish(result: GradingResult): Promise<void> {
    const headers = { persistent: 'true', 'correlation-id': result.requestId, ...resultProperties(result) };
    await this.session.send(this.destinations.results, JSON.stringify(result), headers);
  }

  async reply(destination: string, result: GradingResult, correlationId: string): Promise<void> {
    const headers = { persistent: 'true', 'correlation-id': correlationId, ...resultProperties(result) };
    await this.replies.send(destination, JSON.stringify(result), headers, BEST_EFFORT_TIMEOUT_MS);
  }

  async progress(event: GradingProgressEvent): Promise<void> {
    await this.session.send(
      this.destinations.progress,
      JSON.stringify(event),
      { 'correlation-id': event.requestId },
      BEST_EFFORT_TIMEOUT_MS,
    );
  }

  async deadLetter(letter: DeadLetter): Promise<void> {
    const values: Record<keyof typeof DLQ_HEADERS, string> = {
      reason: letter.reason,
      detail: headerSafe(letter.detail),
      originalDestination: letter.originalDestination,
      originalMessageId: letter.originalMessageId,
      failedAt: letter.failedAt,
    };
    const headers: Headers = { persistent: 'true' };
    for (const [key, names] of Object.entries(DLQ_HEADERS)) {
      for (const name of names) headers[name] = values[key as keyof typeof DLQ_HEADERS];
    }
    if (letter.requestId) {
      headers['correlation-id'] = letter.requestId;
      headers.grading_request_id = letter.requestId;
    }
    await this.session.send(this.destinations.dlq, letter.body, headers);
  }
}

/** Message properties JMS consumers can select on. */
function resultProperties(result: GradingResult): Headers {
  return { grading_request_id: result.requestId, grading_status: result.status };
}

/** STOMP header values are one line. */
function headerSafe(text: string): string {
  return text.replace(/[\r\n]+/g, ' | ').slice(0, 2000);
}
