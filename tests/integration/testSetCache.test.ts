/**
 * Test sets kept in memory by version (S3Store.readTestSet on s3rver): a live version (problem push
 * layout) is listed and downloaded once, then costs one GET of current.json; a set without
 * current.json is listed every time and rebuilt only when a key or ETag changes. The cache itself
 * is bounded by bytes, least recently used first.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { buildTestSet, TestSetCache, testSetBytes } from '../../worker/src/problems/testSet';
import { S3Store } from '../../worker/src/storage/s3Store';
import type { LocalS3 } from '../../scripts/services/s3';
import { sharedS3 } from '../helpers/services';
import { s3Client } from '../helpers/workerHarness';

/** Records the HTTP requests a client sends (SDK commands and the lean object calls alike): "GET key", "LIST prefix". */
function countingClient(s3: LocalS3): { client: S3Client; calls: string[] } {
  const client = s3Client(s3);
  const calls: string[] = [];
  const handler = client.config.requestHandler as unknown as { handle(request: HttpRequestLike, ...rest: unknown[]): Promise<unknown> };
  const handle = handler.handle.bind(handler);
  handler.handle = (request, ...rest) => {
    const key = decodeURIComponent(request.path.replace(`/${s3.bucket}/`, '').replace(/\/$/, ''));
    calls.push(request.query?.['list-type'] ? `LIST ${String(request.query.prefix)}` : `${request.method} ${key}`);
    return handle(request, ...rest);
  };
  return { client, calls };
}

interface HttpRequestLike {
  method: string;
  path: string;
  query?: Record<string, unknown>;
}

const set = (cases: Array<[string, string]>) =>
  buildTestSet(new Map(cases.flatMap(([input, output], i) => [[`${i + 1}.in`, input] as const, [`${i + 1}.out`, output] as const])));

describe('test sets cached in memory', function () {
  this.timeout(60_000);
  let s3: LocalS3;
  let cacheDir: string;
  const prefix = () => `problems/cache-${Math.random().toString(36).slice(2, 10)}/testcases/`;

  before(async () => {
    s3 = await sharedS3();
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'test-set-cache-'));
  });
  after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

  it('reads a live version once; later messages cost one GET of current.json, and a new version is seen at once', async () => {
    const base = prefix();
    const seed = s3Client(s3);
    const put = (key: string, body: string) => seed.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `${base}${key}`, Body: body }));
    await Promise.all([put('versions/v1/1.in', '1 2\n'), put('versions/v1/1.out', '3\n')]);
    await put('current.json', JSON.stringify({ version: 'v1' }));
    const { client, calls } = countingClient(s3);
    const store = new S3Store({ bucket: s3.bucket, cacheDir, client });
    const uri = `s3://${s3.bucket}/${base}`;
    const first = await Promise.all([store.readTestSet(uri), store.readTestSet(uri)]);
    assert.equal(first[0], first[1], 'concurrent readers share one load');
    assert.equal(calls.filter((c) => c.startsWith('LIST')).length, 1);
    calls.length = 0;
    const again = await store.readTestSet(uri);
    assert.equal(again, first[0]);
    assert.deepEqual(calls, [`GET ${base}current.json`]);
    assert.ok(Object.isFrozen(again) && Object.isFrozen(again.cases[0]), 'shared sets cannot be changed by one grading');

    await Promise.all([put('versions/v2/1.in', '2 2\n'), put('versions/v2/1.out', '4\n')]);
    await put('current.json', JSON.stringify({ version: 'v2' }));
    const switched = await store.readTestSet(uri);
    assert.deepEqual(
      switched.cases.map((c) => c.expected),
      ['4\n'],
    );
    assert.notEqual(switched.version, again.version);
    seed.destroy();
    client.destroy();
  });

  it('lists a set without current.json every time and rebuilds it only when a file changes', async () => {
    const base = prefix();
    const seed = s3Client(s3);
    const put = (key: string, body: string) => seed.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `${base}${key}`, Body: body }));
    await Promise.all([put('1.in', '1 2\n'), put('1.out', '3\n')]);
    const { client, calls } = countingClient(s3);
    const store = new S3Store({ bucket: s3.bucket, cacheDir, client });
    const uri = `s3://${s3.bucket}/${base}`;
    const first = await store.readTestSet(uri);
    calls.length = 0;
    assert.equal(await store.readTestSet(uri), first);
    assert.deepEqual(calls, [`GET ${base}current.json`, `LIST ${base}`], 'current.json (missing) and the listing, no file');
    await put('1.out', '4\n');
    const changed = await store.readTestSet(uri);
    assert.deepEqual(
      changed.cases.map((c) => c.expected),
      ['4\n'],
    );
    assert.notEqual(changed.version, first.version);
    seed.destroy();
    client.destroy();
  });

  it('keeps at most its byte bound, dropping the least recently used set, and never keeps a set larger than the bound', () => {
    const small = set([['1 2\n', '3\n']]);
    const bytes = testSetBytes(small);
    const cache = new TestSetCache(bytes * 2);
    cache.set('a', small);
    cache.set('b', set([['2 2\n', '4\n']]));
    assert.ok(cache.get('a'), 'a is now the most recently used');
    cache.set('c', set([['3 3\n', '6\n']]));
    assert.equal(cache.get('b'), undefined, 'b was the least recently used');
    assert.ok(cache.get('a') && cache.get('c'));
    assert.ok(cache.bytes <= bytes * 2);
    const large = set([['x'.repeat(bytes * 2), 'y\n']]);
    assert.equal(cache.set('large', large), large);
    assert.equal(cache.get('large'), undefined);
    assert.equal(cache.size, 2);
  });
});
