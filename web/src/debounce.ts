/**
 * Duplicate-submission debounce: the same user sending the same source for the same problem and
 * language within a few seconds (a double click, a retried POST) gets the first request's id back
 * instead of a second grading. In memory, per gateway instance.
 */
import { createHash } from 'node:crypto';

export interface SubmissionKeyParts {
  userId: string;
  problemId: string;
  language: string;
  sourceCode: string;
}

export function submissionKey(parts: SubmissionKeyParts): string {
  const hash = createHash('sha256');
  // Length-prefixed fields, so no two different tuples can hash the same input.
  for (const field of [parts.userId, parts.problemId, parts.language, parts.sourceCode]) {
    hash.update(`${Buffer.byteLength(field)}:`).update(field);
  }
  return hash.digest('hex');
}

export interface DebouncerOptions {
  windowMs: number;
  maxEntries?: number;
  now?: () => number;
}

export class SubmissionDebouncer {
  private readonly entries = new Map<string, { requestId: string; at: number }>();
  private readonly now: () => number;
  private readonly maxEntries: number;

  constructor(private readonly opts: DebouncerOptions) {
    this.now = opts.now ?? Date.now;
    this.maxEntries = opts.maxEntries ?? 50_000;
  }

  /**
   * Returns the request id already given to `key` within the window, or records `candidateId`
   * for it and returns undefined (the caller then submits under `candidateId`).
   */
  claim(key: string, candidateId: string): string | undefined {
    const now = this.now();
    const existing = this.entries.get(key);
    if (existing && now - existing.at < this.opts.windowMs) return existing.requestId;
    this.entries.delete(key);
    this.entries.set(key, { requestId: candidateId, at: now });
    this.prune(now);
    return undefined;
  }

  /** Forgets a claim whose submission failed, so the user can retry at once. */
  release(key: string, requestId: string): void {
    if (this.entries.get(key)?.requestId === requestId) this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  private prune(now: number): void {
    // Insertion order is claim order: expired entries are at the front.
    for (const [key, entry] of this.entries) {
      if (now - entry.at < this.opts.windowMs && this.entries.size <= this.maxEntries) break;
      this.entries.delete(key);
    }
  }
}
