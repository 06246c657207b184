/**
 * The problem author's tools as shipped (bin/grading-stack.js, a real process): validate reports every
 * problem's mistakes at once, verify grades reference solutions in the real sandbox, push uploads to a
 * real S3 API (s3rver) as a new version that the worker's S3Store and the gateway's catalog then read,
 * and never uploads an invalid problem.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { S3Store } from '../../worker/src/storage/s3Store';
import { S3ProblemCatalog } from '../../web/src/problems';
import type { LocalS3 } from '../../scripts/services/s3';
import { privateS3 } from '../helpers/services';
import { s3Client } from '../helpers/workerHarness';

const ROOT = path.join(__dirname, '../..');
const run = promisify(execFile);
const cli = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, [path.join(ROOT, 'bin/grading-stack.js'), ...args], { cwd: ROOT, env: { ...process.env, ...env } }).then(
    (r) => ({ ...r, code: 0 }),
    (e) => e as { stdout: string; stderr: string; code: number },
  );

function writeProblem(dir: string, files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
}

describe('grading-stack problem (CLI)', function () {
  this.timeout(180_000);
  let work: string;
  let s3: LocalS3;

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'problems-'));
    s3 = await privateS3('problem-push');
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('validate reports every problem and every mistake at once, and exits 1', async () => {
    const dir = path.join(work, 'validate');
    fs.cpSync(path.join(ROOT, 'examples/problems/any-pair'), path.join(dir, 'any-pair'), { recursive: true });
    writeProblem(path.join(dir, 'broken'), {
      'testcases/1.in': '1',
      'testcases/3.in': '3',
      'testcases/3.out': '3',
      'testcases/manifest.json': JSON.stringify({
        checker: { type: 'testlib', source: 'checker.cpp' },
        subtasks: [{ name: 'a', cases: '1', points: 10 }],
      }),
      'testcases/checker.cpp': 'int main( {',
      'solutions/fast.py': 'print(1)',
    });
    const { stdout, code } = await cli(['problem', 'validate', dir]);
    assert.equal(code, 1);
    assert.match(stdout, /^any-pair: ok$/m);
    assert.match(stdout, /^broken: INVALID$/m);
    // (The checker is compiled only once the rest of the test set is valid: see the next test.)
    for (const problem of [
      /1\.in has no 1\.out/,
      /case 2 is missing/,
      /no subtask covers case\(s\) 3/,
      /solutions\/fast\.py: the name promises no verdict/,
    ]) {
      assert.match(stdout, problem);
    }
  });

  it('validate compiles the checker in the sandbox and reports a broken one', async () => {
    const dir = path.join(work, 'checker');
    writeProblem(dir, {
      'testcases/1.in': '1',
      'testcases/1.out': '1',
      'testcases/manifest.json': JSON.stringify({ checker: { type: 'testlib', source: 'checker.cpp' } }),
      'testcases/checker.cpp': 'int main( {',
    });
    const { stdout, code } = await cli(['problem', 'validate', dir]);
    assert.equal(code, 1);
    assert.match(stdout, /checker checker\.cpp does not compile/);
  });

  it('verify grades the reference solutions and exits 1 on a mismatch', async () => {
    const dir = path.join(work, 'verify', 'any-pair');
    fs.cpSync(path.join(ROOT, 'examples/problems/any-pair'), dir, { recursive: true });
    writeProblem(dir, {
      'solutions/ac.cpp': fs.readFileSync(path.join(ROOT, 'examples/solutions/any-pair/accepted.cpp'), 'utf8'),
      'solutions/wa-zero.py': 'n = int(input())\nprint(0, n)\n',
    });
    const good = await cli(['problem', 'verify', dir]);
    assert.equal(good.code, 0, good.stdout + good.stderr);
    assert.match(good.stdout, /any-pair\/solutions\/ac\.cpp: AC/);
    assert.match(good.stdout, /solutions\/wa-zero\.py: WA/);
    writeProblem(dir, { 'solutions/ac.py': 'print(1, 1)\n' });
    const bad = await cli(['problem', 'verify', dir]);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /solutions\/ac\.py: WA \(expected AC\) MISMATCH/);
  });

  it('push uploads a new version that the worker and the gateway read, and never uploads an invalid problem', async () => {
    const dir = path.join(work, 'push');
    writeProblem(path.join(dir, 'pair'), { 'testcases/1.in': '1 2\n', 'testcases/1.out': '3\n', 'description.md': '# Pair\n' });
    const env = s3.env();
    const push = () => cli(['problem', 'push', dir, '--bucket', s3.bucket, '--endpoint', env.S3_ENDPOINT], env);
    const first = await push();
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /pair: pushed version [0-9a-f]{24} \(2 files\), live/);

    const client = s3Client(s3);
    const store = new S3Store({ bucket: s3.bucket, cacheDir: path.join(work, 'cache'), client });
    const uri = `s3://${s3.bucket}/problems/pair/testcases/`;
    const v1 = await store.readTestSet(uri);
    assert.deepEqual(
      v1.cases.map((c) => c.expected),
      ['3\n'],
    );
    const catalog = new S3ProblemCatalog(client, s3.bucket, { cacheTtlMs: 0 });
    const details = await catalog.get('pair');
    assert.equal(details?.testCaseCount, 1);
    assert.equal(details?.title, 'Pair');

    // A second problem that is broken: nothing of either is uploaded, version 1 stays live.
    writeProblem(path.join(dir, 'pair'), { 'testcases/2.in': '2 2\n', 'testcases/2.out': '4\n' });
    writeProblem(path.join(dir, 'zbroken'), { 'testcases/1.in': '1' });
    const keysBefore = await listKeys();
    const refused = await push();
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /zbroken: INVALID/);
    assert.deepEqual(await listKeys(), keysBefore);
    assert.deepEqual((await store.readTestSet(uri)).cases.length, 1);

    fs.rmSync(path.join(dir, 'zbroken'), { recursive: true });
    const second = await push();
    assert.equal(second.code, 0, second.stderr);
    const v2 = await store.readTestSet(uri);
    assert.deepEqual(
      v2.cases.map((c) => c.expected),
      ['3\n', '4\n'],
    );
    assert.notEqual(v2.version, v1.version);

    async function listKeys(): Promise<string[]> {
      const page = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: 'problems/' }));
      return (page.Contents ?? []).map((o) => `${o.Key}=${o.ETag}`).sort();
    }
  });

  it('push --keep N deletes versions older than the N most recent, never the live one', async () => {
    const dir = path.join(work, 'keep');
    const env = s3.env();
    const client = s3Client(s3);
    const keepFlag = (keep?: string) => (keep ? ['--keep', keep] : []);
    const push = (keep?: string) =>
      cli(['problem', 'push', dir, '--bucket', s3.bucket, '--endpoint', env.S3_ENDPOINT, ...keepFlag(keep)], env);
    const versions: string[] = [];
    for (let i = 1; i <= 4; i++) {
      writeProblem(path.join(dir, 'kept'), { 'testcases/1.in': `${i} 0\n`, 'testcases/1.out': `${i}\n` });
      const pushed = await push(i === 4 ? '2' : undefined);
      assert.equal(pushed.code, 0, pushed.stderr);
      versions.push(/kept: pushed version ([0-9a-f]{24})/.exec(pushed.stdout)![1]);
      if (i === 4) assert.match(pushed.stdout, new RegExp(`kept: removed 2 older version\\(s\\): .*${versions[0]}`));
    }
    const stored = async () => {
      const page = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: 'problems/kept/testcases/versions/' }));
      return [...new Set((page.Contents ?? []).map((o) => o.Key!.split('/')[4]))].sort();
    };
    // --keep 2: the live version and the one before it; the default (3) kept three until then.
    assert.deepEqual(await stored(), [versions[3], versions[2]].sort());
    const store = new S3Store({ bucket: s3.bucket, cacheDir: path.join(work, 'cache-keep'), client });
    assert.deepEqual(
      (await store.readTestSet(`s3://${s3.bucket}/problems/kept/testcases/`)).cases.map((c) => c.expected),
      ['4\n'],
    );
    // --keep 1 with the live version pushed again: only the live version stays.
    const again = await push('1');
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await stored(), [versions[3]]);
    const bad = await push('0');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--keep must be a whole number of versions from 1 \(got "0"\)/);
  });

  it('grade --expect exits 1 on another verdict; flags nobody reads are errors; --help answers', async () => {
    const args = ['grade', '--problem', 'examples/problems/sum', '--source', 'examples/solutions/sum/wrong-answer.py'];
    assert.equal((await cli([...args, '--expect', 'WA'])).code, 0);
    const other = await cli([...args, '--expect', 'AC']);
    assert.equal(other.code, 1);
    assert.match(other.stderr, /verdict WA, expected AC/);
    const unknown = await cli(['problem', 'validate', 'examples/problems', '--fast', 'yes']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option --fast for problem validate/);
    const help = await cli(['problem', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /grading-stack problem push DIR --bucket B/);
  });
});
