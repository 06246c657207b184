/**
 * The languages a user sees come from the executor in use: the worker publishes them to the bucket
 * (real s3rver), the gateway's /api/languages serves Judge0's names ("Java (OpenJDK 13.0.1)") or the
 * sandbox's toolchain versions, and never a version nobody runs.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createJudge0Executor } from '../../worker/src/executors/judge0';
import type { Executor } from '../../worker/src/executors/port';
import { LANGUAGE_IDS, OFFERED_LANGUAGES_KEY, OfferedLanguage, parseOfferedLanguages } from '../../core/src/languages';
import { offeredLanguages, publishOfferedLanguages } from '../../worker/src/offeredLanguages';
import { s3OfferedLanguages } from '../../web/src/offeredLanguages';
import { Gateway } from '../../web/src/server';
import { Judge0TestServer, startJudge0TestServer } from '../helpers/judge0TestServer';
import { bearer, unitGatewayAuthDeps } from '../helpers/gatewayAuth';
import { sharedS3 } from '../helpers/services';

const problems = { list: async () => [], get: async () => undefined, exists: async () => false };
const submissions = {
  submit: async () => ({ requestId: 'x', status: 'submitted' as const }),
  lookup: async () => undefined,
  events: async function* () {},
};

async function languagesFrom(languages?: () => Promise<OfferedLanguage[] | undefined>) {
  const gateway = new Gateway(
    {
      submissions,
      problems,
      health: async () => ({ ok: true, checks: {} }),
      ...unitGatewayAuthDeps(),
      ...(languages ? { languages } : {}),
    },
    {},
  );
  await gateway.listen(0);
  try {
    return (
      (await (await fetch(`${gateway.url}/api/languages`, { headers: await bearer('user_1') })).json()) as {
        languages: Array<{ id: string; label: string; version?: string }>;
      }
    ).languages;
  } finally {
    await gateway.close();
  }
}

describe('languages offered by the executor in use', function () {
  this.timeout(120_000);
  let judge0: Judge0TestServer | undefined;
  afterEach(() => judge0?.close());

  it('worker publishes Judge0 names to the bucket and the gateway serves them', async () => {
    judge0 = await startJudge0TestServer({ uidBase: 62950 });
    const executor = await createJudge0Executor({ baseUrl: judge0.baseUrl });
    const s3 = await sharedS3();
    const client = new S3Client({
      region: 'us-east-1',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    const logs: string[] = [];
    let published!: () => void;
    const done = new Promise<void>((resolve) => (published = resolve));
    const stop = publishOfferedLanguages(
      executor,
      async (json) => {
        await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: OFFERED_LANGUAGES_KEY, Body: json }));
        published();
      },
      (level, message) => logs.push(`${level} ${message}`),
    );
    await done;
    stop();
    const served = await languagesFrom(s3OfferedLanguages(client, s3.bucket));
    assert.deepEqual(
      served.map((l) => `${l.id}: ${l.label}`),
      [
        'python: Python (3.8.1)',
        'javascript: JavaScript (Node.js 12.14.0)',
        'c: C (GCC 9.2.0)',
        'cpp: C++ (GCC 9.2.0)',
        'java: Java (OpenJDK 13.0.1)',
        'go: Go (1.13.5)',
        'rust: Rust (1.40.0)',
      ],
    );
    assert.equal(served.find((l) => l.id === 'java')?.version, 'OpenJDK 13.0.1');
  });

  it('names the sandbox toolchains by the versions the compilers report', async () => {
    const sandboxLike = { name: 'sandbox' } as Executor;
    const names = Object.fromEntries((await offeredLanguages(sandboxLike)).map((l) => [l.id, l.name]));
    const gcc = execFileSync('/usr/bin/gcc', ['-dumpfullversion'], { encoding: 'utf8' }).trim();
    assert.equal(names.c, `C (GCC ${gcc})`);
    assert.match(names.java, /^Java \(OpenJDK \d+(\.\d+)+\)$/);
    assert.match(names.python, /^Python \(3\.\d+\.\d+\)$/);
    assert.match(names.javascript, /^JavaScript \(Node\.js \d+\.\d+\.\d+\)$/);
    assert.match(names.go, /^Go \(1\.\d+(\.\d+)?\)$/);
    assert.match(names.rust, /^Rust \(1\.\d+\.\d+\)$/);
  });

  it('shows plain labels, never a version, while nothing is published; only offered languages when something is', async () => {
    const plain = await languagesFrom();
    assert.equal(plain.length, LANGUAGE_IDS.length);
    assert.ok(
      plain.every((l) => !/\d+\.\d|Java \d/.test(l.label)),
      JSON.stringify(plain),
    );
    const onlyJava = await languagesFrom(async () => [{ id: 'java', name: 'Java (OpenJDK 13.0.1)', version: 'OpenJDK 13.0.1' }]);
    assert.deepEqual(
      onlyJava.map((l) => l.label),
      ['Java (OpenJDK 13.0.1)'],
    );
  });

  it('ignores a malformed or hostile document', () => {
    assert.equal(parseOfferedLanguages('not json'), undefined);
    const doc = parseOfferedLanguages(
      JSON.stringify({
        executor: 'judge0',
        languages: [
          { id: 'cobol', name: 'x', version: '1' },
          { id: 'c', name: 'C (GCC 9.2.0)', version: 'GCC 9.2.0' },
          { id: 'java', name: 'y'.repeat(500), version: '' },
        ],
      }),
    );
    assert.deepEqual(
      doc?.languages.map((l) => l.id),
      ['c'],
    );
  });
});
