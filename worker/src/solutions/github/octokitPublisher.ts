/**
 * SolutionPublisher over GitHub's REST contents API with @octokit/rest:
 *   GET /repos/{owner}/{repo}/contents/{path}   the file's blob sha (404: not there yet)
 *   PUT /repos/{owner}/{repo}/contents/{path}   create (no sha) or update (with the sha read)
 * A 409 (the file moved on since we read its sha) or a 422 about the sha re-reads and tries again;
 * 401, and 403/404 that are not rate limits, mean the link no longer works; rate limits (403/429)
 * wait as GitHub's rate-limit documentation asks: `retry-after` seconds when present, else until
 * `x-ratelimit-reset` when `x-ratelimit-remaining` is 0, else a minute, growing exponentially.
 * A file that already holds exactly the source is not committed again.
 */
import { Octokit } from '@octokit/rest';
import type { Logger } from '../../../../core/src/log';
import { readmePath, renderPath } from '../../../../core/src/solutions/pathTemplate';
import {
  AcceptedSolution,
  LinkInvalidError,
  PublishOutcome,
  PublishRejectedError,
  RateLimitedError,
  RepositoryLink,
  SolutionPublisher,
} from './port';

export interface OctokitPublisherOptions {
  /** https://api.github.com, or a GitHub Enterprise / test server's API root. */
  baseUrl?: string;
  /** Attempts per HTTP call on rate limits and 5xx (default 4). */
  maxAttempts?: number;
  /** Longest single wait for a rate limit before giving the job back (default 10 min). */
  maxWaitMs?: number;
  /** Re-reads of the sha after a 409/422 (default 3). */
  maxConflictRetries?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  log?: Logger;
}

interface ExistingFile {
  sha: string;
  content?: string;
  htmlUrl?: string;
}

interface HttpFailure {
  status?: number;
  message: string;
  headers: Record<string, string | undefined>;
}

export class OctokitPublisher implements SolutionPublisher {
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly log: Logger;

  constructor(private readonly opts: OctokitPublisherOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.log = opts.log ?? (() => undefined);
  }

  async publish(link: RepositoryLink, solution: AcceptedSolution): Promise<PublishOutcome> {
    const [owner, repo] = splitRepository(link.repository);
    const octokit = new Octokit({
      auth: link.token,
      baseUrl: this.opts.baseUrl ?? 'https://api.github.com',
      userAgent: 'grading-stack',
      // Octokit's own log stays quiet: everything worth saying goes through our logger, without the token.
      log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    const values = { problemId: solution.problemId, language: solution.language, ext: solution.extension, requestId: solution.requestId };
    const path = renderPath(link.pathTemplate, values);
    const outcome = await this.writeFile(octokit, owner, repo, path, solution.source, commitMessage(solution));
    const readme = readmePath(link.pathTemplate, values);
    if (readme) await this.ensureReadme(octokit, owner, repo, readme, solution.problemId);
    this.log('info', 'solution published', {
      requestId: solution.requestId,
      repository: link.repository,
      path,
      kind: outcome.kind,
      commit: outcome.commitSha,
    });
    return outcome;
  }

  private async writeFile(
    octokit: Octokit,
    owner: string,
    repo: string,
    path: string,
    content: string,
    message: string,
  ): Promise<PublishOutcome> {
    for (let conflicts = 0; ; conflicts++) {
      const existing = await this.readFile(octokit, owner, repo, path);
      if (existing?.content !== undefined && existing.content === content) {
        return { path, kind: 'unchanged', url: existing.htmlUrl ?? `https://github.com/${owner}/${repo}/blob/HEAD/${path}` };
      }
      try {
        const response = await this.call(`PUT ${path}`, () =>
          octokit.rest.repos.createOrUpdateFileContents({
            owner,
            repo,
            path,
            message,
            content: Buffer.from(content, 'utf8').toString('base64'),
            ...(existing ? { sha: existing.sha } : {}),
          }),
        );
        const commit = response.data.commit;
        return { path, kind: response.status === 201 ? 'created' : 'updated', commitSha: commit.sha, url: commit.html_url ?? '' };
      } catch (error) {
        const failure = describeFailure(error);
        const shaProblem = failure.status === 409 || (failure.status === 422 && /sha/i.test(failure.message));
        if (shaProblem && conflicts < (this.opts.maxConflictRetries ?? 3)) {
          this.log('warn', 'file changed while committing; reading its sha again', { path, status: failure.status });
          continue;
        }
        if (failure.status === 404)
          throw new LinkInvalidError(`repository ${owner}/${repo} not found, or the token cannot write to it`, 404);
        if (failure.status === 409 || failure.status === 422)
          throw new PublishRejectedError(`GitHub refused ${path}: ${failure.message}`, failure.status);
        throw error;
      }
    }
  }

  private async ensureReadme(octokit: Octokit, owner: string, repo: string, path: string, problemId: string): Promise<void> {
    if (await this.readFile(octokit, owner, repo, path)) return;
    const text = `# ${problemId}\n\nAccepted solutions to problem \`${problemId}\`, committed by the judge: one folder per language.\n`;
    try {
      await this.call(`PUT ${path}`, () =>
        octokit.rest.repos.createOrUpdateFileContents({
          owner,
          repo,
          path,
          message: `Add README for ${problemId}`,
          content: Buffer.from(text).toString('base64'),
        }),
      );
    } catch (error) {
      // Someone created it in between (422 without sha): it exists, which is all we wanted.
      if (describeFailure(error).status !== 422) throw error;
    }
  }

  private async readFile(octokit: Octokit, owner: string, repo: string, path: string): Promise<ExistingFile | undefined> {
    try {
      const { data } = await this.call(`GET ${path}`, () => octokit.rest.repos.getContent({ owner, repo, path }));
      if (Array.isArray(data) || data.type !== 'file')
        throw new PublishRejectedError(`${path} exists in the repository and is not a file`, 422);
      const content = 'content' in data && data.encoding === 'base64' ? Buffer.from(data.content, 'base64').toString('utf8') : undefined;
      return { sha: data.sha, content, htmlUrl: data.html_url ?? undefined };
    } catch (error) {
      if (describeFailure(error).status === 404) return undefined;
      throw error;
    }
  }

  /** One HTTP call with the rate-limit and 5xx policy; 401 and non-rate-limit 403 end the link. */
  private async call<T>(what: string, request: () => Promise<T>): Promise<T> {
    const maxAttempts = this.opts.maxAttempts ?? 4;
    for (let attempt = 1; ; attempt++) {
      try {
        return await request();
      } catch (error) {
        const failure = describeFailure(error);
        if (failure.status === 401)
          throw new LinkInvalidError('GitHub rejected the token (401): link the repository again with a valid token', 401);
        const rateLimited = failure.status === 429 || (failure.status === 403 && isRateLimit(failure));
        if (failure.status === 403 && !rateLimited) {
          throw new LinkInvalidError(`the token may not write to this repository (403: ${failure.message})`, 403);
        }
        if (rateLimited) {
          const waitMs = rateLimitWait(failure.headers, attempt, this.now());
          const retryAt = new Date(this.now() + waitMs);
          if (attempt >= maxAttempts || waitMs > (this.opts.maxWaitMs ?? 600_000)) {
            throw new RateLimitedError(`GitHub rate limit on ${what}; retry after ${retryAt.toISOString()}`, retryAt);
          }
          this.log('warn', 'GitHub rate limit; waiting', { what, status: failure.status, waitMs, attempt });
          await this.sleep(waitMs);
          continue;
        }
        if (failure.status !== undefined && failure.status >= 500 && attempt < maxAttempts) {
          await this.sleep(1000 * 2 ** (attempt - 1));
          continue;
        }
        throw error;
      }
    }
  }
}

/** How long GitHub asks us to wait, following its rate-limit documentation's order of rules. */
export function rateLimitWait(headers: Record<string, string | undefined>, attempt: number, nowMs: number): number {
  const retryAfter = Number(headers['retry-after']);
  if (headers['retry-after'] !== undefined && Number.isFinite(retryAfter) && retryAfter >= 0) return retryAfter * 1000;
  const reset = Number(headers['x-ratelimit-reset']);
  if (headers['x-ratelimit-remaining'] === '0' && Number.isFinite(reset)) return Math.max(1000, reset * 1000 - nowMs);
  return 60_000 * 2 ** (attempt - 1);
}

function isRateLimit(failure: HttpFailure): boolean {
  return (
    failure.headers['x-ratelimit-remaining'] === '0' || failure.headers['retry-after'] !== undefined || /rate limit/i.test(failure.message)
  );
}

function describeFailure(error: unknown): HttpFailure {
  const e = error as {
    status?: number;
    message?: string;
    response?: { headers?: Record<string, string | number | undefined>; data?: { message?: string } };
  };
  const headers = Object.fromEntries(
    Object.entries(e.response?.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v === undefined ? undefined : String(v)]),
  );
  return {
    status: typeof e.status === 'number' ? e.status : undefined,
    message: e.response?.data?.message ?? e.message ?? String(error),
    headers,
  };
}

export function commitMessage(s: AcceptedSolution): string {
  return (
    `${s.problemId} (${s.language}): ${s.verdict}, ${Math.round(s.executionTime)} ms, ${s.memoryUsage} MB\n\n` +
    `Submission ${s.requestId}, accepted ${s.acceptedAt}.`
  );
}

export function splitRepository(repository: string): [string, string] {
  const match = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})$/.exec(repository);
  if (!match || match[2] === '.' || match[2] === '..') throw new Error(`"${repository}" is not a repository name (owner/name)`);
  return [match[1], match[2]];
}
