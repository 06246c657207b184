/**
 * The problem catalog as the gateway sees it, read from the bucket:
 *   problems/{id}/description.md              statement (title = its first heading)
 *   problems/{id}/testcases/{n}.in, {n}.out   cases (counted, never read here)
 *   problems/{id}/testcases/manifest.json     optional limits
 *   problems/{id}/testcases/current.json      when pushed by the CLI: {"version": v}; the cases and
 *                                             manifest are then under testcases/versions/{v}/
 * Cached briefly so listing the page and validating submissions do not hit S3 every time.
 */
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { ProblemDetails, ProblemSource, ProblemSummary } from './ports';
import { PROBLEM_ID_PATTERN } from './validation';

export interface ProblemCatalogOptions {
  /** Limits used when a problem's manifest sets none. */
  defaultTimeLimitMs?: number;
  defaultMemoryLimitMb?: number;
  cacheTtlMs?: number;
  now?: () => number;
}

export const DEFAULT_TIME_LIMIT_MS = 2000;
export const DEFAULT_MEMORY_LIMIT_MB = 256;

export class S3ProblemCatalog implements ProblemSource {
  private listCache?: { at: number; value: Promise<ProblemSummary[]> };
  private readonly detailCache = new Map<string, { at: number; value: Promise<ProblemDetails | undefined> }>();
  private readonly ttl: number;
  private readonly now: () => number;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly opts: ProblemCatalogOptions = {},
  ) {
    this.ttl = opts.cacheTtlMs ?? 30_000;
    this.now = opts.now ?? Date.now;
  }

  list(): Promise<ProblemSummary[]> {
    if (!this.listCache || this.now() - this.listCache.at >= this.ttl) {
      const value = this.loadList();
      value.catch(() => (this.listCache = undefined)); // never cache a failure
      this.listCache = { at: this.now(), value };
    }
    return this.listCache.value;
  }

  get(problemId: string): Promise<ProblemDetails | undefined> {
    if (!PROBLEM_ID_PATTERN.test(problemId)) return Promise.resolve(undefined);
    const cached = this.detailCache.get(problemId);
    if (cached && this.now() - cached.at < this.ttl) return cached.value;
    const value = this.loadProblem(problemId);
    value.catch(() => this.detailCache.delete(problemId));
    this.detailCache.set(problemId, { at: this.now(), value });
    if (this.detailCache.size > 1000) this.detailCache.delete(this.detailCache.keys().next().value as string);
    return value;
  }

  /** A problem can be graded when it has at least one test case. */
  async exists(problemId: string): Promise<boolean> {
    const details = await this.get(problemId);
    return !!details && details.testCaseCount > 0;
  }

  private async loadList(): Promise<ProblemSummary[]> {
    const ids: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: 'problems/', Delimiter: '/', ContinuationToken: token }),
      );
      for (const prefix of page.CommonPrefixes ?? []) {
        const id = prefix.Prefix?.slice('problems/'.length, -1);
        if (id && PROBLEM_ID_PATTERN.test(id)) ids.push(id);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const problems = await Promise.all(ids.map((id) => this.get(id)));
    return problems
      .filter((p): p is ProblemDetails => !!p)
      .map(({ id, title }) => ({ id, title }))
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  private async loadProblem(problemId: string): Promise<ProblemDetails | undefined> {
    const prefix = `problems/${problemId}/`;
    const cases = await this.liveTestCasePrefix(`${prefix}testcases/`);
    const [description, manifestText, testCaseCount] = await Promise.all([
      this.readText(`${prefix}description.md`),
      this.readText(`${cases}manifest.json`),
      this.countTestCases(cases),
    ]);
    if (description === undefined && testCaseCount === 0) return undefined;
    const limits = limitsFromManifest(manifestText);
    return {
      id: problemId,
      title: titleOf(description ?? '', problemId),
      description: description ?? '',
      timeLimit: limits.timeLimit ?? this.opts.defaultTimeLimitMs ?? DEFAULT_TIME_LIMIT_MS,
      memoryLimit: limits.memoryLimit ?? this.opts.defaultMemoryLimitMb ?? DEFAULT_MEMORY_LIMIT_MB,
      testCaseCount,
    };
  }

  /** testcases/, or the version its current.json names (problems uploaded by `grading-stack problem push`). */
  private async liveTestCasePrefix(prefix: string): Promise<string> {
    const pointer = await this.readText(`${prefix}current.json`);
    if (pointer === undefined) return prefix;
    try {
      const version = (JSON.parse(pointer) as { version?: unknown }).version;
      if (typeof version === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(version)) return `${prefix}versions/${version}/`;
    } catch {
      // A broken pointer: the worker refuses it too; show the problem as having no cases.
    }
    return `${prefix}versions/invalid/`;
  }

  private async countTestCases(prefix: string): Promise<number> {
    let count = 0;
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const object of page.Contents ?? []) if (/^\d+\.in$/.test(object.Key?.slice(prefix.length) ?? '')) count++;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return count;
  }

  private async readText(key: string): Promise<string | undefined> {
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await object.Body!.transformToString('utf8');
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
}

/** The first Markdown heading, else the id. */
export function titleOf(markdown: string, fallback: string): string {
  const heading = /^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$/m.exec(markdown);
  return heading ? heading[1] : fallback;
}

/**
 * Time (ms) and memory (MB) limits from a manifest (worker/src/problems/testSet.ts format: top-level
 * `timeLimit`, `memoryLimit`), if it sets them; a broken manifest sets none (the worker reports it).
 */
export function limitsFromManifest(text: string | undefined): { timeLimit?: number; memoryLimit?: number } {
  if (!text) return {};
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch {
    return {};
  }
  if (typeof manifest !== 'object' || manifest === null) return {};
  const positiveInteger = (value: unknown) => (Number.isInteger(value) && (value as number) > 0 ? (value as number) : undefined);
  const { timeLimit, memoryLimit } = manifest as Record<string, unknown>;
  return { timeLimit: positiveInteger(timeLimit), memoryLimit: positiveInteger(memoryLimit) };
}

export function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}
