/**
 * What happens after a submission is accepted, apart from (and after) its verdict: its winnowing
 * fingerprints are stored for staff's similarity view, and, when its author linked a repository,
 * the solution is committed there. Runs in its own process on results already durable, so nothing
 * here can delay or change a verdict; every step is idempotent per request id.
 */
import { isLanguage, LANGUAGES } from '../../../core/src/languages';
import type { Logger } from '../../../core/src/log';
import type { GradingResult } from '../../../core/src/contracts/result';
import type { MysqlSimilarityStore } from '../../../core/src/similarity/store';
import { fingerprintSource } from '../../../core/src/similarity/winnow';
import type { Encryptor } from '../../../core/src/solutions/crypto';
import { LinkInvalidError, PublishRejectedError, RateLimitedError, SolutionPublisher } from './github/port';
import type { MysqlSolutionStore } from '../../../core/src/solutions/store';

export interface SubmissionFacts {
  userId: string;
  problemId: string;
  language: string;
  source: string;
}

export interface AcceptedHandlerDeps {
  solutions: MysqlSolutionStore;
  similarity: MysqlSimilarityStore;
  publisher: SolutionPublisher;
  encryptor: Encryptor;
  /** The submission's metadata and source (from S3: submissions/{requestId}/). */
  readSubmission(requestId: string): Promise<SubmissionFacts>;
  log?: Logger;
  now?: () => number;
}

export type HandleOutcome =
  | { kind: 'ignored'; reason: string }
  | { kind: 'done'; fingerprinted: boolean; github: 'committed' | 'already-committed' | 'not-linked' | 'link-invalid' | 'rejected' }
  /** Try again at `retryAt` (ms epoch): GitHub rate limit, a transient error, or another publisher's live claim. */
  | { kind: 'retry'; retryAt: number; reason: string };

export interface AcceptedHandlerOptions {
  /** How long a publisher owns a submission before another may take over (default 15 min). */
  leaseMs?: number;
  /** Delay before retrying after a transient failure (default 30 s). */
  transientRetryMs?: number;
}

export class AcceptedResultHandler {
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(
    private readonly deps: AcceptedHandlerDeps,
    private readonly opts: AcceptedHandlerOptions = {},
  ) {
    this.log = deps.log ?? (() => undefined);
    this.now = deps.now ?? Date.now;
  }

  async handle(result: GradingResult): Promise<HandleOutcome> {
    if (result.status !== 'completed' || result.result?.verdict !== 'AC') return { kind: 'ignored', reason: 'not accepted' };
    const outcome = result.result;
    let facts: SubmissionFacts;
    try {
      facts = await this.deps.readSubmission(result.requestId);
    } catch (error) {
      return this.retry(`reading the submission failed: ${(error as Error).message}`);
    }
    if (!isLanguage(facts.language)) return { kind: 'ignored', reason: `unknown language ${facts.language}` };

    try {
      await this.deps.similarity.saveFingerprints({
        requestId: result.requestId,
        userId: facts.userId,
        problemId: facts.problemId,
        language: facts.language,
        fingerprints: fingerprintSource(facts.source, facts.language),
        acceptedAt: result.timestamp,
        sourceChars: facts.source.length,
      });
    } catch (error) {
      return this.retry(`storing fingerprints failed: ${(error as Error).message}`);
    }

    const link = await this.deps.solutions.getLink(facts.userId).catch(() => 'unavailable' as const);
    if (link === 'unavailable') return this.retry('reading the GitHub link failed');
    if (!link || link.status !== 'active') return { kind: 'done', fingerprinted: true, github: 'not-linked' };

    const leaseMs = this.opts.leaseMs ?? 15 * 60_000;
    const claim = await this.deps.solutions.claim(result.requestId, facts.userId, link.repository, leaseMs);
    if (claim.kind === 'done') return { kind: 'done', fingerprinted: true, github: 'already-committed' };
    if (claim.kind === 'busy') return { kind: 'retry', retryAt: this.now() + leaseMs, reason: 'another publisher holds this submission' };

    const fail = (error: string) => this.deps.solutions.recordFailed(result.requestId, claim.claimId, error);
    let token: string;
    try {
      token = await this.deps.encryptor.decrypt(link.tokenSealed, facts.userId);
    } catch (error) {
      // A key rotated away or a damaged row: only linking again helps.
      const reason = `the stored token no longer opens (${(error as Error).message}); link the repository again`;
      await this.deps.solutions.markLinkInvalid(facts.userId, link.linkId, reason);
      await fail(reason);
      return { kind: 'done', fingerprinted: true, github: 'link-invalid' };
    }
    try {
      const published = await this.deps.publisher.publish(
        { repository: link.repository, token, pathTemplate: link.pathTemplate },
        {
          requestId: result.requestId,
          problemId: facts.problemId,
          language: facts.language,
          extension: LANGUAGES[facts.language].extension,
          source: facts.source,
          verdict: outcome.verdict,
          executionTime: outcome.executionTime,
          memoryUsage: outcome.memoryUsage,
          acceptedAt: result.timestamp,
        },
      );
      await this.deps.solutions.recordCommitted(result.requestId, claim.claimId, published);
      return { kind: 'done', fingerprinted: true, github: 'committed' };
    } catch (error) {
      const message = (error as Error).message;
      if (error instanceof LinkInvalidError) {
        await this.deps.solutions.markLinkInvalid(facts.userId, link.linkId, message);
        await fail(message);
        this.log('warn', 'GitHub link no longer works; marked invalid', {
          requestId: result.requestId,
          userId: facts.userId,
          status: error.status,
        });
        return { kind: 'done', fingerprinted: true, github: 'link-invalid' };
      }
      if (error instanceof PublishRejectedError) {
        await fail(message);
        this.log('warn', 'GitHub refused the solution', { requestId: result.requestId, status: error.status, error: message });
        return { kind: 'done', fingerprinted: true, github: 'rejected' };
      }
      await fail(message).catch(() => undefined);
      if (error instanceof RateLimitedError) return { kind: 'retry', retryAt: error.retryAt.getTime(), reason: message };
      return this.retry(`publishing failed: ${message}`);
    }
  }

  private retry(reason: string): HandleOutcome {
    this.log('warn', 'accepted-solution step will be retried', { reason });
    return { kind: 'retry', retryAt: this.now() + (this.opts.transientRetryMs ?? 30_000), reason };
  }
}
