/** Reviewer adapter for any OpenAI-compatible `POST {baseUrl}/chat/completions` endpoint. */
import { buildReviewPrompt, PROMPT_VERSION } from './prompts';
import { Review, ReviewInput, Reviewer, ReviewNotConfiguredError, ReviewServiceError } from './port';

export interface OpenAiReviewerOptions {
  /** e.g. https://api.openai.com/v1 or a self-hosted gateway; `/chat/completions` is appended. */
  baseUrl?: string;
  model?: string;
  apiKey?: string;
  timeoutMs?: number;
  /** Attempts in all, for 429 / 5xx / network errors. */
  maxAttempts?: number;
  initialBackoffMs?: number;
  maxTokens?: number;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
}

export class OpenAiReviewer implements Reviewer {
  private readonly baseUrl: string;
  private readonly model: string;
  private readonly apiKey: string;

  constructor(private readonly opts: OpenAiReviewerOptions) {
    const missing = (['baseUrl', 'model', 'apiKey'] as const).filter((k) => !opts[k]);
    if (missing.length) {
      throw new ReviewNotConfiguredError(
        `code review is not configured: missing ${missing.join(', ')} (env REVIEW_BASE_URL, REVIEW_MODEL, REVIEW_API_KEY or REVIEW_API_KEY_PARAM)`,
      );
    }
    this.baseUrl = opts.baseUrl!.replace(/\/+$/, '');
    this.model = opts.model!;
    this.apiKey = opts.apiKey!;
  }

  async review(input: ReviewInput): Promise<Review> {
    const body = JSON.stringify({
      model: this.model,
      messages: buildReviewPrompt(input),
      temperature: 0.2,
      max_tokens: this.opts.maxTokens ?? 700,
    });
    const attempts = this.opts.maxAttempts ?? 4;
    const sleep = this.opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    let lastError: ReviewServiceError | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const outcome = await this.post(body);
      if ('review' in outcome) return outcome.review;
      lastError = outcome.error;
      if (!outcome.retryable || attempt === attempts) break;
      const backoff = (this.opts.initialBackoffMs ?? 500) * 2 ** (attempt - 1);
      await sleep(Math.max(outcome.retryAfterMs ?? 0, backoff * (0.5 + Math.random() / 2)));
    }
    throw lastError!;
  }

  private async post(body: string): Promise<{ review: Review } | { error: ReviewServiceError; retryable: boolean; retryAfterMs?: number }> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.apiKey}` },
        body,
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 60_000),
      });
    } catch (error) {
      return { error: new ReviewServiceError(`review service unreachable: ${(error as Error).message}`), retryable: true };
    }
    const text = await response.text();
    if (!response.ok) {
      const retryable = response.status === 429 || response.status >= 500;
      const retryAfter = Number(response.headers.get('retry-after'));
      // The body may echo the request; keep the message short and never include the key.
      return {
        error: new ReviewServiceError(`review service answered ${response.status}: ${text.slice(0, 200)}`, response.status),
        retryable,
        retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter, 60) * 1000 : undefined,
      };
    }
    try {
      const parsed = JSON.parse(text) as { model?: string; choices?: Array<{ message?: { content?: string } }> };
      const content = parsed.choices?.[0]?.message?.content?.trim();
      if (!content) throw new Error('no choices[0].message.content');
      return {
        review: { text: content, model: parsed.model ?? this.model, promptVersion: PROMPT_VERSION, createdAt: new Date().toISOString() },
      };
    } catch (error) {
      return { error: new ReviewServiceError(`review service sent an unexpected body: ${(error as Error).message}`), retryable: false };
    }
  }
}
