/**
 * In-memory stand-ins for the pipeline's storage ports (worker/src/pipeline/ports.ts).
 *
 * InMemoryResultStore follows core/src/results/mysqlStore.ts statement by statement: beginAttempt
 * (INSERT ... ON DUPLICATE KEY UPDATE attempts + 1, fingerprints COALESCEd), releaseAttempt (only
 * pending rows, never below 0), reopenFailed (only failed rows), saveResult (every column guarded by
 * IF(status is final, keep, new): the first final result stays), markPublished, findCached
 * (completed rows only, the earliest first). InMemoryBucket follows storage/s3Store.ts: objects of
 * another bucket are refused (ForeignBucketError), a missing source is SourceNotFoundError, a test set
 * is built by buildTestSet from the files under the prefix (none: TestSetError).
 */
import type { GradingResult } from '../../../core/src/contracts/result';
import { buildTestSet, TestSet } from '../../../worker/src/problems/testSet';
import type { RequestMeta, RequestRecord, ResultFiles, ResultStore, SourceStore, TestSets } from '../../../worker/src/pipeline/ports';
import { ForeignBucketError, parseS3Uri, SourceNotFoundError } from '../../../worker/src/storage/s3Store';

interface Row {
  status: 'pending' | 'completed' | 'failed';
  attempts: number;
  requestHash: string | null;
  sourceSha256: string | null;
  userId: string | null;
  document?: GradingResult;
  cacheKey?: string;
  completedAt?: number;
  published: boolean;
}

/** Calls of one method fail with these errors, one per call, before the real behaviour resumes. */
type Failures = Partial<Record<string, unknown[]>>;

function takeFailure(failures: Failures, method: string): void {
  const queue = failures[method];
  if (queue?.length) throw queue.shift();
}

export class InMemoryResultStore implements ResultStore {
  readonly rows = new Map<string, Row>();
  readonly calls: string[] = [];
  readonly failures: Failures = {};
  private clock = 0;

  async getRecord(requestId: string): Promise<RequestRecord | undefined> {
    this.enter('getRecord');
    const row = this.rows.get(requestId);
    if (!row) return undefined;
    const { status, attempts, requestHash, sourceSha256, published, document } = row;
    return { status, attempts, requestHash, sourceSha256, published, document: status === 'pending' ? undefined : clone(document) };
  }

  async beginAttempt(meta: RequestMeta): Promise<number> {
    this.enter('beginAttempt');
    const row = this.rows.get(meta.requestId);
    if (!row) {
      this.rows.set(meta.requestId, { ...this.newRow(meta), attempts: 1 });
      return 1;
    }
    row.attempts++;
    row.requestHash ??= meta.requestHash ?? null;
    row.sourceSha256 ??= meta.sourceSha256 ?? null;
    return row.attempts;
  }

  async releaseAttempt(requestId: string): Promise<void> {
    this.enter('releaseAttempt');
    const row = this.rows.get(requestId);
    if (row?.status === 'pending') row.attempts = Math.max(row.attempts - 1, 0);
  }

  async reopenFailed(requestId: string): Promise<boolean> {
    this.enter('reopenFailed');
    const row = this.rows.get(requestId);
    if (row?.status !== 'failed') return false;
    Object.assign(row, { status: 'pending', attempts: 0, document: undefined, completedAt: undefined, published: false });
    return true;
  }

  async saveResult(meta: RequestMeta, result: GradingResult, cacheKey?: string): Promise<GradingResult> {
    this.enter('saveResult');
    let row = this.rows.get(meta.requestId);
    if (!row) {
      row = { ...this.newRow(meta), attempts: 1 };
      this.rows.set(meta.requestId, row);
    } else if (row.status === 'pending') {
      row.requestHash ??= meta.requestHash ?? null;
      row.sourceSha256 ??= meta.sourceSha256 ?? null;
      row.userId ??= meta.userId ?? null;
    }
    if (row.status === 'pending') {
      Object.assign(row, { status: result.status, document: clone(result), cacheKey, completedAt: row.completedAt ?? ++this.clock });
    }
    return clone(row.document!);
  }

  async markPublished(requestId: string): Promise<void> {
    this.enter('markPublished');
    const row = this.rows.get(requestId);
    if (row) row.published = true;
  }

  async findCached(cacheKey: string): Promise<GradingResult | undefined> {
    this.enter('findCached');
    const hits = [...this.rows.values()].filter((r) => r.cacheKey === cacheKey && r.status === 'completed');
    hits.sort((a, b) => a.completedAt! - b.completedAt!);
    return hits.length ? clone(hits[0].document) : undefined;
  }

  private enter(method: string): void {
    this.calls.push(method);
    takeFailure(this.failures, method);
  }

  private newRow(meta: RequestMeta): Row {
    const { requestHash = null, sourceSha256 = null, userId = null } = meta;
    return { status: 'pending', attempts: 0, requestHash, sourceSha256, userId, published: false };
  }
}

/** One bucket: sources by key, test-set files under prefixes, and the results/{id}/ files written. */
export class InMemoryBucket implements SourceStore, TestSets, ResultFiles {
  readonly objects = new Map<string, string>();
  readonly resultFiles = new Map<string, { resultJson: string; executionLog: string }>();
  readonly calls: string[] = [];
  readonly failures: Failures = {};

  constructor(readonly bucket = 'grading-files') {}

  put(key: string, text: string): string {
    this.objects.set(key, text);
    return `s3://${this.bucket}/${key}`;
  }

  async readSource(uri: string): Promise<string> {
    this.enter('readSource');
    const text = this.objects.get(this.ownKey(uri));
    if (text === undefined) throw new SourceNotFoundError(`source ${uri} does not exist`);
    return text;
  }

  async readTestSet(prefixUri: string): Promise<TestSet> {
    this.enter('readTestSet');
    const prefix = this.ownKey(prefixUri);
    const files = new Map(
      [...this.objects].filter(([key]) => key.startsWith(prefix)).map(([key, text]) => [key.slice(prefix.length), text]),
    );
    // The version changes with any file, as the ETag digest in S3Store does.
    return buildTestSet(files, [...files].map(([name, text]) => `${name}=${text.length}:${text}`).join('\n'));
  }

  resultUri(requestId: string): string {
    return `s3://${this.bucket}/results/${requestId}/result.json`;
  }

  async putResult(requestId: string, resultJson: string, executionLog: string): Promise<string> {
    this.enter('putResult');
    this.resultFiles.set(requestId, { resultJson, executionLog });
    return this.resultUri(requestId);
  }

  private ownKey(uri: string): string {
    const { bucket, key } = parseS3Uri(uri);
    if (bucket !== this.bucket) throw new ForeignBucketError(`${uri} is not in the grading bucket ${this.bucket}`);
    return key;
  }

  private enter(method: string): void {
    this.calls.push(method);
    takeFailure(this.failures, method);
  }
}

function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}
