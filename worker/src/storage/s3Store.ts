/**
 * The worker's view of the grading bucket: submission sources, a problem's test cases (built sets
 * kept in memory by version, files cached on disk by ETag, so popular problems are downloaded once
 * per task), and results/{id}/ uploads.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { buildTestSet, isTestSetFile, TestSet, TestSetCache } from '../problems/testSet';
import { pruneLeastRecentlyUsed, touchEntry } from './lruDir';
import { ObjectTooLargeError, S3ObjectCalls } from './s3Objects';

export interface S3Location {
  bucket: string;
  key: string;
}

export function parseS3Uri(uri: string): S3Location {
  const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
  if (!match) throw new Error(`not an s3:// URI: ${uri}`);
  return { bucket: match[1], key: match[2] };
}

export interface S3StoreOptions {
  bucket: string;
  region?: string;
  /** s3rver or another S3-API server locally. */
  endpoint?: string;
  forcePathStyle?: boolean;
  /** Where downloaded test cases are kept, keyed by ETag. */
  cacheDir: string;
  /** Bytes of cached test files kept in cacheDir, least recently used removed first (only cache files). Unset: unbounded. */
  cacheMaxBytes?: number;
  /** Bytes of test-set text kept in memory (least recently used dropped first). Default 32 MiB. */
  testSetCacheBytes?: number;
  client?: S3Client;
}

interface ListedObject {
  key: string;
  etag: string;
}

/** Identifies a listed file set (keys and ETags): part of the result cache key. */
function testSetVersion(objects: ListedObject[]): string {
  return createHash('sha256')
    .update(
      objects
        .map((o) => `${o.key}=${o.etag}`)
        .sort()
        .join('\n'),
    )
    .digest('hex');
}

const MAX_SOURCE_BYTES = 1024 * 1024;
/** Under a problem's testcases/: the pointer to its live version, and where versions live. */
export const LIVE_VERSION_FILE = 'current.json';
export const LIVE_VERSIONS_DIR = 'versions/';
export const LIVE_VERSION_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export class S3Store {
  readonly client: S3Client;
  readonly bucket: string;
  private readonly testSets: TestSetCache;
  private readonly loadingTestSets = new Map<string, Promise<TestSet>>();
  /** GET/PUT of single objects past the SDK's command pipeline (s3Objects.ts), when the client allows. */
  private readonly objects: S3ObjectCalls;

  constructor(private readonly opts: S3StoreOptions) {
    this.bucket = opts.bucket;
    this.testSets = new TestSetCache(opts.testSetCacheBytes ?? 32 * 1024 * 1024);
    this.client =
      opts.client ??
      new S3Client({
        region: opts.region ?? 'us-east-1',
        endpoint: opts.endpoint,
        forcePathStyle: opts.forcePathStyle,
        maxAttempts: 3,
        // No CRC32 of every body in and out (TLS already protects these small objects in transit; the
        // checksums cost CPU on every message); the SDK still adds one where an operation requires it.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
    this.objects = new S3ObjectCalls(this.client, this.bucket);
  }

  /** An object's text through the lean path, else through S3Client. */
  private async getText(key: string, maxBytes = Infinity): Promise<string> {
    if (await this.objects.available()) return this.objects.get(key, maxBytes);
    const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    if ((object.ContentLength ?? 0) > maxBytes) {
      (object.Body as { destroy?: () => void } | undefined)?.destroy?.();
      throw new ObjectTooLargeError(`s3://${this.bucket}/${key} is larger than ${maxBytes} bytes`);
    }
    return object.Body!.transformToString('utf8');
  }

  private async putText(key: string, body: string, contentType: string): Promise<void> {
    if (await this.objects.available()) return this.objects.put(key, body, contentType);
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
  }

  /** Only objects of the configured bucket may be read: a request cannot point the worker elsewhere. */
  private ownKey(uri: string): string {
    const { bucket, key } = parseS3Uri(uri);
    if (bucket !== this.bucket) throw new ForeignBucketError(`${uri} is not in the grading bucket ${this.bucket}`);
    return key;
  }

  async readSource(uri: string): Promise<string> {
    const key = this.ownKey(uri);
    return this.getText(key, MAX_SOURCE_BYTES).catch((error) => {
      // A missing source stays missing: no point retrying it (NoSuchKey, or 404 without a body).
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if ((error as Error).name === 'NoSuchKey' || status === 404) {
        throw new SourceNotFoundError(`source ${uri} does not exist`);
      }
      if (error instanceof ObjectTooLargeError) throw new SourceTooLargeError(`source ${uri} is larger than ${MAX_SOURCE_BYTES} bytes`);
      throw error;
    });
  }

  /**
   * The test set under the prefix. A problem pushed by `grading-stack problem push` names its live
   * version in current.json; the version's files sit complete under versions/<v>/ before that one PUT
   * switches to them, and a version is never rewritten, so a known version costs one GET of
   * current.json. Without current.json the prefix is listed every time and the set is reused while
   * the listing's keys and ETags stay the same. Files missing from memory come from the disk cache
   * (by ETag) or S3.
   */
  async readTestSet(prefixUri: string): Promise<TestSet> {
    const prefix = this.ownKey(prefixUri);
    const pointer = await this.readLiveVersion(prefix);
    if (pointer) {
      const setPrefix = `${prefix}${LIVE_VERSIONS_DIR}${pointer}/`;
      return this.cachedTestSet(`live:${setPrefix}`, async () => this.loadTestSet(setPrefix, await this.listTestSet(setPrefix)));
    }
    const objects = await this.listTestSet(prefix);
    return this.cachedTestSet(`listed:${prefix}:${testSetVersion(objects)}`, () => this.loadTestSet(prefix, objects));
  }

  /** One load per key at a time: concurrent messages for a new set wait for the same download. */
  private async cachedTestSet(key: string, load: () => Promise<TestSet>): Promise<TestSet> {
    const cached = this.testSets.get(key);
    if (cached) return cached;
    let loading = this.loadingTestSets.get(key);
    if (!loading) {
      loading = load()
        .then((set) => this.testSets.set(key, set))
        .finally(() => this.loadingTestSets.delete(key));
      this.loadingTestSets.set(key, loading);
    }
    return loading;
  }

  private async listTestSet(setPrefix: string): Promise<ListedObject[]> {
    const objects: ListedObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: setPrefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        const name = o.Key!.slice(setPrefix.length);
        if (isTestSetFile(name)) objects.push({ key: o.Key!, etag: (o.ETag ?? '').replace(/"/g, '') });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return objects;
  }

  private async loadTestSet(setPrefix: string, objects: ListedObject[]): Promise<TestSet> {
    const files = new Map<string, string>();
    await Promise.all(objects.map(async (o) => files.set(o.key.slice(setPrefix.length), await this.cachedObject(o.key, o.etag))));
    return buildTestSet(files, testSetVersion(objects));
  }

  /** The version current.json names under a test-case prefix, if any. */
  private async readLiveVersion(prefix: string): Promise<string | undefined> {
    let text: string;
    try {
      text = await this.getText(`${prefix}${LIVE_VERSION_FILE}`, 64 * 1024);
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if ((error as Error).name === 'NoSuchKey' || status === 404) return undefined;
      throw error;
    }
    const version = (JSON.parse(text) as { version?: unknown }).version;
    if (typeof version !== 'string' || !LIVE_VERSION_NAME.test(version))
      throw new Error(`${prefix}${LIVE_VERSION_FILE} names no valid version`);
    return version;
  }

  async putResult(requestId: string, resultJson: string, executionLog: string): Promise<string> {
    const prefix = `results/${requestId}/`;
    await Promise.all([
      this.putText(`${prefix}result.json`, resultJson, 'application/json'),
      this.putText(`${prefix}execution.log`, executionLog, 'text/plain; charset=utf-8'),
    ]);
    return `s3://${this.bucket}/${prefix}result.json`;
  }

  resultUri(requestId: string): string {
    return `s3://${this.bucket}/results/${requestId}/result.json`;
  }

  private async cachedObject(key: string, etag: string): Promise<string> {
    const file = path.join(this.opts.cacheDir, createHash('sha256').update(`${this.bucket}/${key}@${etag}`).digest('hex'));
    const cached = await fsp.readFile(file, 'utf8').catch(() => undefined);
    if (cached !== undefined && etag) {
      void touchEntry(file);
      return cached;
    }
    const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, IfMatch: etag || undefined }));
    const body = await object.Body!.transformToString('utf8');
    await fsp.mkdir(this.opts.cacheDir, { recursive: true });
    // Write then rename, so a concurrent reader never sees half a file.
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    await fsp.writeFile(tmp, body);
    await fsp.rename(tmp, file);
    // Old test-set versions are never read again: the least recently used files go past the budget.
    const maxBytes = this.opts.cacheMaxBytes;
    if (maxBytes) void pruneLeastRecentlyUsed(this.opts.cacheDir, { maxBytes, keep: (name) => !/^[0-9a-f]{64}$/.test(name) });
    return body;
  }
}

/** The request points outside the grading bucket. */
export class ForeignBucketError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForeignBucketError';
  }
}

/** The request's source object does not exist. */
export class SourceNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceNotFoundError';
  }
}

export class SourceTooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceTooLargeError';
  }
}
