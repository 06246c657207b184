/**
 * The pure rules that identify requests and results: a request's fingerprint (duplicate or reused
 * id?), the result cache key (same key, same verdict) and where a result may be replied to.
 */
import { createHash } from 'node:crypto';
import type { GradingRequest } from '../../../core/src/contracts/request';
import { GRADER_VERSION } from '../grading/version';

/** The broker destinations the worker uses (STOMP names: /queue/..., /topic/...). */
export interface Destinations {
  requests: string;
  priority: string;
  results: string;
  dlq: string;
  progress: string;
}

/**
 * What identifies a request's content besides its source: every field that changes grading.
 * `timestamp` is left out, so a producer that re-sends the same request later is still a duplicate.
 */
export function requestFingerprint(request: GradingRequest): string {
  const { userId, problemId, language, sourceFile, testCases, timeLimit, memoryLimit } = request;
  return sha256(['request-v1', userId, problemId, language, sourceFile, testCases, String(timeLimit), String(memoryLimit)]);
}

/** The fingerprint of a message that is not a valid request: its raw body (a redelivery is a duplicate, anything else a reuse). */
export function invalidRequestFingerprint(body: string): string {
  return sha256(['invalid-request', body]);
}

/** The result cache key: the same key must mean the same verdict, so the grader's version and the executor are in it. */
export function resultCacheKey(input: {
  problemId: string;
  language: string;
  sourceSha256: string;
  testSetVersion: string;
  timeLimit: number;
  memoryLimit: number;
  executor: string;
}): string {
  const { problemId, language, sourceSha256, testSetVersion, timeLimit, memoryLimit, executor } = input;
  const limits = [String(timeLimit), String(memoryLimit)];
  return sha256([`grader-v${GRADER_VERSION}`, executor, problemId, language, sourceSha256, testSetVersion, ...limits]);
}

const REPLY_TO = /^\/(queue|topic|temp-queue|temp-topic|remote-temp-queue|remote-temp-topic)\/([A-Za-z0-9._:-]{1,200})$/;

/**
 * The request's reply-to, if results may go there: a queue, topic or (remote) temporary destination
 * with a plain name, and never one of the worker's own destinations (a reply to grading-requests
 * would come back as a request).
 */
export function replyDestination(replyTo: string | undefined, own: Destinations): string | undefined {
  if (!replyTo) return undefined;
  const match = REPLY_TO.exec(replyTo.trim());
  if (!match) return undefined;
  const ownNames = [own.requests, own.priority, own.results, own.dlq, own.progress].map((d) => d.replace(/^\/(queue|topic)\//, ''));
  if ((match[1] === 'queue' || match[1] === 'topic') && ownNames.includes(match[2])) return undefined;
  return `/${match[1]}/${match[2]}`;
}

export function sha256(parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex');
}
