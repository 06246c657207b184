/**
 * GradingClient: what a web application's server uses to hand code to the grading system.
 *
 *   const client = await GradingClient.connect(gradingClientConfigFromEnv());
 *   const { requestId } = await client.submit({ userId, problemId, language, sourceCode });
 *   for await (const event of client.events(requestId)) ...   // each test case, then the final result
 *   const result = await client.result(requestId);            // from the database, once graded
 *
 * submit() stores the source in S3 (submissions/{requestId}/solution.{ext} + metadata.json),
 * validates the grading request against the worker's schema and sends it persistently to
 * grading-requests (or grading-priority), returning as soon as the broker has it.
 */
import { randomUUID } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { extensionOf, Language } from '../../core/src/languages';
import { DeliveryCursor, GatewayEvent } from './eventCursor';
import { isNotFound } from './problems';
import { ProgressHub } from './progressHub';
import { GradingResult, ProgressItem } from './progressItems';
import type { PendingSubmission, ProblemSource, SubmissionView } from './ports';
import { decodeEventId } from './sse';
import { REQUEST_ID_PATTERN, SubmissionInput, validateSubmission } from './validation';

/** The broker operations the client needs (core/src/queue/session.ts BrokerSession provides them). */
export interface MessageBroker {
  /** Resolves once the broker acknowledged the frame (receipt). */
  send(destination: string, body: string, headers: Record<string, string>): Promise<void>;
  /** Subscribes now and again after every reconnect. */
  subscribe(destination: string, onMessage: (body: string, headers: Record<string, string>) => void): { unsubscribe(): void };
  readonly connected: boolean;
  close(): Promise<void>;
}

/** Reads final results from the database (the worker writes them). */
export interface ResultReader {
  get(requestId: string): Promise<GradingResult | undefined>;
  /** Throws when the database is unreachable (health). */
  ping?(): Promise<void>;
  close?(): Promise<void>;
}

/** Validates the grading request exactly as the worker will (the contracts' schema). */
export type RequestValidator = (request: unknown) => string[];

/** Turns one message from the progress topic into an item; null for a valid event of another kind (runs), undefined for anything else. */
export type ProgressParser = (body: string, headers: Record<string, string>) => ProgressItem | null | undefined;

export interface GradingClientDeps {
  s3: S3Client;
  bucket: string;
  broker: MessageBroker;
  results: ResultReader;
  problems: ProblemSource;
  validateRequest: RequestValidator;
  parseProgress: ProgressParser;
  /** STOMP destinations. */
  destinations: { requests: string; priority: string; progress: string };
  hub?: ProgressHub;
  /** How often an open events() stream re-reads the database, in case the topic missed the final event. Default 5000. */
  resultPollMs?: number;
  log?: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
  now?: () => Date;
}

export interface SubmitOptions {
  /** Reuse a request id (an idempotent retry of the same submission); generated when absent. */
  requestId?: string;
}

export interface SubmissionMetadata {
  requestId: string;
  userId: string;
  problemId: string;
  language: string;
  priority: boolean;
  sourceBytes: number;
  submittedAt: string;
}

export class GradingClient {
  readonly hub: ProgressHub;
  private progressSubscription?: { unsubscribe(): void };
  private readonly log: NonNullable<GradingClientDeps['log']>;
  private readonly now: () => Date;

  constructor(private readonly deps: GradingClientDeps) {
    this.hub = deps.hub ?? new ProgressHub();
    this.log = deps.log ?? (() => undefined);
    this.now = deps.now ?? (() => new Date());
  }

  /** The problem catalog submissions are checked against. */
  get problems(): ProblemSource {
    return this.deps.problems;
  }

  /** Starts following the progress topic (the gateway does this at start; events() does it on first use). */
  followProgress(): void {
    if (this.progressSubscription) return;
    this.progressSubscription = this.deps.broker.subscribe(this.deps.destinations.progress, (body, headers) => {
      const item = this.deps.parseProgress(body, headers);
      if (item) this.hub.publish(item);
      else if (item === undefined) {
        this.log('warn', 'ignored a progress message that does not match the contract', { body: body.slice(0, 200) });
      }
    });
  }

  async submit(input: SubmissionInput & SubmitOptions): Promise<{ requestId: string; status: 'submitted' }> {
    const { requestId: givenId, ...fields } = input;
    const validation = validateSubmission(fields, { maxSourceBytes: Number.MAX_SAFE_INTEGER });
    if (!validation.ok) throw new Error(`invalid submission: ${validation.errors.map((e) => `${e.field} ${e.message}`).join('; ')}`);
    const submission = validation.value;
    const requestId = givenId ?? newRequestId();
    if (!REQUEST_ID_PATTERN.test(requestId))
      throw new Error(`invalid requestId "${requestId}": expected req_ followed by letters, digits, _ or -`);
    const problem = await this.deps.problems.get(submission.problemId);
    if (!problem || problem.testCaseCount === 0)
      throw new Error(`unknown problem "${submission.problemId}": nothing under problems/${submission.problemId}/testcases/`);

    const { bucket } = this.deps;
    const timestamp = this.now().toISOString();
    const sourceKey = `submissions/${requestId}/solution.${extensionOf(submission.language)}`;
    const metadata: SubmissionMetadata = {
      requestId,
      userId: submission.userId,
      problemId: submission.problemId,
      language: submission.language,
      priority: submission.priority ?? false,
      sourceBytes: Buffer.byteLength(submission.sourceCode),
      submittedAt: timestamp,
    };
    const request = {
      requestId,
      userId: submission.userId,
      problemId: submission.problemId,
      language: submission.language,
      sourceFile: `s3://${bucket}/${sourceKey}`,
      testCases: `s3://${bucket}/problems/${submission.problemId}/testcases/`,
      timeLimit: problem.timeLimit,
      memoryLimit: problem.memoryLimit,
      timestamp,
    };
    const problems = this.deps.validateRequest(request);
    if (problems.length) throw new Error(`the grading request does not match the contract: ${problems.join('; ')}`);

    // Source first, metadata second: metadata.json existing means the submission is complete.
    await this.deps.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: sourceKey, Body: submission.sourceCode, ContentType: 'text/plain; charset=utf-8' }),
    );
    await this.deps.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `submissions/${requestId}/metadata.json`,
        Body: JSON.stringify(metadata, null, 2),
        ContentType: 'application/json',
      }),
    );
    const destination = submission.priority ? this.deps.destinations.priority : this.deps.destinations.requests;
    await this.deps.broker.send(destination, JSON.stringify(request), {
      persistent: 'true',
      'content-type': 'application/json',
      'correlation-id': requestId,
    });
    this.log('info', 'grading request sent', { requestId, destination });
    return { requestId, status: 'submitted' };
  }

  /** The final result from the database, or undefined while it is being graded (or unknown). */
  result(requestId: string): Promise<GradingResult | undefined> {
    return this.deps.results.get(requestId);
  }

  /** Pending (metadata in S3, no result yet), the result document, or undefined when unknown. */
  async status(requestId: string): Promise<SubmissionView | undefined> {
    if (!REQUEST_ID_PATTERN.test(requestId)) return undefined;
    const stored = await this.result(requestId);
    if (stored) return stored;
    const metadata = await this.metadata(requestId);
    if (!metadata) return undefined;
    const pending: PendingSubmission = {
      requestId,
      status: 'pending',
      userId: metadata.userId,
      problemId: metadata.problemId,
      language: metadata.language,
      submittedAt: metadata.submittedAt,
    };
    return pending;
  }

  /** SubmissionService.lookup, for the HTTP layer. */
  lookup(requestId: string): Promise<SubmissionView | undefined> {
    return this.status(requestId);
  }

  /** The submitted source as stored in S3 (submissions/{requestId}/solution.{ext}). */
  source(requestId: string, language: Language): Promise<string | undefined> {
    return this.readObject(`submissions/${requestId}/solution.${extensionOf(language)}`);
  }

  async metadata(requestId: string): Promise<SubmissionMetadata | undefined> {
    const text = await this.readObject(`submissions/${requestId}/metadata.json`);
    return text === undefined ? undefined : (JSON.parse(text) as SubmissionMetadata);
  }

  /** An object of the bucket as text, or undefined when it does not exist. */
  private async readObject(key: string): Promise<string | undefined> {
    try {
      const object = await this.deps.s3.send(new GetObjectCommand({ Bucket: this.deps.bucket, Key: key }));
      return await object.Body!.transformToString('utf8');
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /**
   * Each finished test case (once, in the order they finish), then the final result, then the
   * iterator ends. `lastEventId` resumes after the events a client already has; a stream opened
   * after grading finished gets every case from the stored result. Stops early when `signal` aborts.
   */
  async *events(requestId: string, opts: { lastEventId?: string; signal?: AbortSignal } = {}): AsyncGenerator<GatewayEvent> {
    const cursor = new DeliveryCursor(decodeEventId(opts.lastEventId));
    if (cursor.done) return;
    this.followProgress();
    const pollMs = this.deps.resultPollMs ?? 5000;
    const pending: ProgressItem[] = [];
    let wake: (() => void) | undefined;
    const notify = () => {
      const resolve = wake;
      wake = undefined;
      resolve?.();
    };
    // Listen before reading the buffer and the database, so nothing falls between them.
    const unlisten = this.hub.listen(requestId, (item) => {
      pending.push(item);
      notify();
    });
    opts.signal?.addEventListener('abort', notify);
    try {
      pending.push(...this.hub.snapshot(requestId));
      let nextResultCheck = 0;
      while (!opts.signal?.aborted) {
        if (Date.now() >= nextResultCheck) {
          nextResultCheck = Date.now() + pollMs;
          const stored = await this.result(requestId).catch((error: Error) => {
            this.log('warn', 'could not read the result; will retry', { requestId, error: error.message });
            return undefined;
          });
          if (stored) pending.push({ kind: 'final', requestId, result: stored });
        }
        while (pending.length) {
          for (const event of cursor.take(pending.shift()!)) yield event;
        }
        if (cursor.done || opts.signal?.aborted) return;
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(notify, Math.max(0, nextResultCheck - Date.now()));
        });
        clearTimeout(timer);
      }
    } finally {
      unlisten();
      opts.signal?.removeEventListener('abort', notify);
    }
  }

  /** Broker connection and database reachability, for GET /health. */
  async health(): Promise<{ ok: boolean; checks: Record<string, string> }> {
    const broker = this.deps.broker.connected ? 'connected' : 'disconnected';
    let database = 'ok';
    try {
      await this.deps.results.ping?.();
    } catch (error) {
      database = `unreachable: ${(error as Error).message}`;
    }
    return { ok: broker === 'connected' && database === 'ok', checks: { broker, database } };
  }

  async close(): Promise<void> {
    this.progressSubscription?.unsubscribe();
    this.progressSubscription = undefined;
    await this.deps.broker.close();
    await this.deps.results.close?.();
    this.deps.s3.destroy();
  }
}

/** `req_` + a random UUID's 32 hex digits: unguessable, so knowing a request id is what lets you read it. */
export function newRequestId(): string {
  return `req_${randomUUID().replace(/-/g, '')}`;
}
