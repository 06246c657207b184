/**
 * Publishing an accepted solution to its author's repository. The port knows nothing about
 * GitHub's HTTP API (octokitPublisher.ts does); callers decide what a failure means for the link.
 */
export interface RepositoryLink {
  /** "owner/name". */
  repository: string;
  /** A fine-grained token with contents:write on that one repository (plain text only in memory). */
  token: string;
  /** Where the solution goes; see pathTemplate.ts. */
  pathTemplate: string;
}

export interface AcceptedSolution {
  requestId: string;
  problemId: string;
  language: string;
  /** File extension of the language, without the dot. */
  extension: string;
  source: string;
  verdict: string;
  /** ms and MB, as in the grading result. */
  executionTime: number;
  memoryUsage: number;
  acceptedAt: string;
}

export interface PublishOutcome {
  path: string;
  /** The commit that wrote the file; absent when the file already held exactly this source. */
  commitSha?: string;
  /** The commit's page, or the file's page when nothing had to be committed. */
  url: string;
  /** `unchanged`: the repository already had this content (e.g. a retry after a crash). */
  kind: 'created' | 'updated' | 'unchanged';
}

export interface SolutionPublisher {
  publish(link: RepositoryLink, solution: AcceptedSolution): Promise<PublishOutcome>;
}

/** The link no longer works (bad or revoked token, no access to the repository): mark it, do not retry. */
export class LinkInvalidError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'LinkInvalidError';
  }
}

/** GitHub asked us to wait longer than we are willing to block: try again at `retryAt`. */
export class RateLimitedError extends Error {
  constructor(
    message: string,
    readonly retryAt: Date,
  ) {
    super(message);
    this.name = 'RateLimitedError';
  }
}

/** GitHub refused the content itself (422 other than a missing sha): retrying will not help. */
export class PublishRejectedError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'PublishRejectedError';
  }
}
