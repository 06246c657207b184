/**
 * The lean GET/PUT path of the worker's per-message S3 calls (worker/src/storage/s3Objects.ts)
 * against s3rver and the SDK: what one writes the other reads, keys with any characters, S3's
 * error codes, a size cap, and which client set-ups fall back to the SDK.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { encodeKey, ObjectTooLargeError, S3ObjectCalls } from '../../worker/src/storage/s3Objects';
import type { LocalS3 } from '../../scripts/services/s3';
import { sharedS3 } from '../helpers/services';
import { s3Client } from '../helpers/workerHarness';

interface SentRequest {
  hostname: string;
  path: string;
  headers: Record<string, string>;
}

describe('S3 object calls past the SDK pipeline', function () {
  this.timeout(60_000);
  let s3: LocalS3;
  let client: S3Client;
  let calls: S3ObjectCalls;

  before(async () => {
    s3 = await sharedS3();
    client = s3Client(s3);
    calls = new S3ObjectCalls(client, s3.bucket);
  });
  after(() => client?.destroy());

  it('PUTs what the SDK reads and GETs what the SDK wrote, for keys with spaces, unicode and reserved characters', async () => {
    const key = `results/lean ${Date.now()}/ünï (1)+'*!&=?#.json`;
    await calls.put(key, '{"ok":true}', 'application/json');
    const read = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    assert.equal(await read.Body!.transformToString('utf8'), '{"ok":true}');
    assert.equal(read.ContentType, 'application/json');
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: 'naïve ✓' }));
    assert.equal(await calls.get(key), 'naïve ✓');
  });

  it("names S3's error code like the SDK (NoSuchKey, status 404) and stops reading past the cap", async () => {
    await assert.rejects(calls.get(`missing/${Date.now()}`), (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(error.name, 'NoSuchKey');
      assert.equal(error.$metadata?.httpStatusCode, 404);
      return true;
    });
    const key = `big/${Date.now()}`;
    await calls.put(key, 'x'.repeat(5000), 'text/plain');
    await assert.rejects(calls.get(key, 4999), ObjectTooLargeError);
    assert.equal((await calls.get(key, 5000)).length, 5000, 'the connection is still usable after a refused body');
  });

  it('signs with SigV4 as S3 checks it (s3rver does not check v4 signatures: recomputed here from the request)', async () => {
    const signing = new S3Client({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG' },
    });
    const handler = signing.config.requestHandler as unknown as { handle(request: SentRequest): Promise<unknown> };
    let sent: SentRequest | undefined;
    handler.handle = async (request) => {
      sent = request;
      throw Object.assign(new Error('captured'), { code: 'CAPTURED' });
    };
    await assert.rejects(
      new S3ObjectCalls(signing, 'grading-bkt').put('results/a b/result.json', '{"x":1}', 'application/json'),
      /captured/,
    );
    signing.destroy();
    assert.equal(sent?.hostname, 'grading-bkt.s3.eu-west-1.amazonaws.com');
    assert.equal(sent?.path, '/results/a%20b/result.json');
    const headers = sent!.headers;
    assert.equal(headers['x-amz-content-sha256'], createHash('sha256').update('{"x":1}').digest('hex'));
    const auth =
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/(\d{8})\/eu-west-1\/s3\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
        headers.authorization,
      );
    assert.ok(auth, headers.authorization);
    const [, day, signedHeaders, signature] = auth;
    const names = signedHeaders.split(';');
    assert.ok(['host', 'x-amz-content-sha256', 'x-amz-date', 'content-type'].every((h) => names.includes(h)));
    const canonical = [
      'PUT',
      sent!.path,
      '',
      ...names.map((n) => `${n}:${headers[n].trim()}`),
      '',
      signedHeaders,
      headers['x-amz-content-sha256'],
    ].join('\n');
    const scope = `${day}/eu-west-1/s3/aws4_request`;
    const toSign = ['AWS4-HMAC-SHA256', headers['x-amz-date'], scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
    const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
    const key = ['eu-west-1', 's3', 'aws4_request'].reduce((k, part) => hmac(k, part), hmac('AWS4wJalrXUtnFEMI/K7MDENG', day));
    assert.equal(signature, createHmac('sha256', key).update(toSign).digest('hex'));
  });

  it('addresses AWS virtual-hosted or path style as the SDK would, and leaves other set-ups to the SDK', async () => {
    const aws = (bucket: string, config: ConstructorParameters<typeof S3Client>[0] = {}) =>
      new S3ObjectCalls(
        new S3Client({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, ...config }),
        bucket,
      ).available();
    assert.deepEqual(await aws('grading'), { protocol: 'https:', hostname: 'grading.s3.eu-west-1.amazonaws.com', prefix: '/' });
    assert.deepEqual(await aws('with.dots'), { protocol: 'https:', hostname: 's3.eu-west-1.amazonaws.com', prefix: '/with.dots/' });
    assert.equal(await aws('grading', { region: 'cn-north-1' }), undefined, 'another partition');
    assert.equal(await aws('grading', { useFipsEndpoint: true }), undefined);
    assert.equal(await aws('grading', { useDualstackEndpoint: true }), undefined);
    // An endpoint from the environment (the boot test points the shipped worker at s3rver this way) is the SDK's to resolve.
    for (const variable of ['AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL']) {
      const saved = process.env[variable];
      process.env[variable] = 'http://127.0.0.1:1';
      try {
        assert.equal(await aws('grading'), undefined, variable);
      } finally {
        if (saved === undefined) delete process.env[variable];
        else process.env[variable] = saved;
      }
    }
    assert.equal(encodeKey("a b/c+d/(x)!*'"), 'a%20b/c%2Bd/%28x%29%21%2A%27');
  });
});
