/**
 * The code-review port: turns a graded submission into written feedback. One adapter talks to any
 * OpenAI-compatible chat-completions endpoint; tests use a local server that speaks the same API.
 */
import type { Language } from '../../../core/src/languages';

export interface ReviewInput {
  problemId: string;
  /** problems/{problemId}/description.md, as written by the problem author. */
  problemDescription: string;
  language: Language;
  /** Overall verdict of the grading (AC, WA, TLE, ...). */
  verdict: string;
  sourceCode: string;
}

export interface Review {
  text: string;
  model: string;
  /** Which prompt template produced it (see prompts.ts), so old reviews can be told apart after edits. */
  promptVersion: string;
  createdAt: string;
}

export interface Reviewer {
  review(input: ReviewInput): Promise<Review>;
}

/** Review is switched off or misconfigured: the gateway answers 503 with this message. */
export class ReviewNotConfiguredError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReviewNotConfiguredError';
  }
}

/** The review service failed after retries. */
export class ReviewServiceError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ReviewServiceError';
  }
}
