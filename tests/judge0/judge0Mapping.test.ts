/** Pure parts of the Judge0 adapter: result mapping, limits and payloads, and parity with the local sandbox. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveLanguages } from '../../worker/src/executors/judge0/catalog';
import { Judge0Submission, toRunOutcome } from '../../worker/src/executors/judge0/statuses';
import { clampLimits, MEMORY_HEADROOM_MB, runScript, submissionPayload } from '../../worker/src/executors/judge0/submissions';
import { zipStored } from '../../worker/src/executors/judge0/zip';
import { TOOLCHAINS } from '../../worker/src/executors/sandbox/toolchains';
import { LANGUAGE_IDS } from '../../core/src/languages';

const ctx = { memoryLimitMb: 64, sentMemoryKb: 65536, outputLimitBytes: 1 << 20, sentMaxFileSizeKb: 1025 };
const result = (over: Partial<Judge0Submission>): Judge0Submission => ({
  token: 't',
  status: { id: 3, description: 'Accepted' },
  stdout: null,
  stderr: null,
  compile_output: null,
  message: null,
  time: '0.010',
  wall_time: '0.050',
  memory: 3000,
  exit_code: 0,
  exit_signal: null,
  ...over,
});
const read = (over: Partial<Judge0Submission>, stdout = '', stderr = '') =>
  toRunOutcome(result(over), { stdout, stdoutBytes: Buffer.byteLength(stdout), stderr, message: '' }, ctx);
const nzec = { id: 11, description: 'Runtime Error (NZEC)' };

describe('Judge0 result mapping', () => {
  it('reads bash exit codes 128+N on status 11 as signals', () => {
    assert.deepEqual(
      [read({ status: nzec, exit_code: 139 }).status, read({ status: nzec, exit_code: 139 }).signal],
      ['signaled', 'SIGSEGV'],
    );
    assert.equal(read({ status: nzec, exit_code: 136 }).signal, 'SIGFPE');
    assert.equal(read({ status: nzec, exit_code: 134 }).signal, 'SIGABRT');
    assert.equal(read({ status: nzec, exit_code: 153 }).status, 'output-limit');
    assert.deepEqual([read({ status: nzec, exit_code: 1 }).status, read({ status: nzec, exit_code: 1 }).exitCode], ['exited', 1]);
  });

  it('MLE for SIGKILL near the box limit or an out-of-memory message; a SIGKILL far below it is RE', () => {
    assert.equal(read({ status: nzec, exit_code: 137, memory: 65000 }).status, 'memory-limit');
    assert.equal(read({ status: nzec, exit_code: 137, memory: 9000 }).status, 'signaled');
    assert.equal(
      read({ status: nzec, exit_code: 1 }, '', 'Exception in thread "main" java.lang.OutOfMemoryError: Java heap space').status,
      'memory-limit',
    );
  });

  it('TLE whatever exit_code says (Judge0 sends 0); statuses 7-10 and exit_signal map to the same signals', () => {
    assert.deepEqual(
      [
        read({ status: { id: 5, description: 'Time Limit Exceeded' }, exit_code: 0 }).status,
        read({ status: { id: 5, description: '' } }).exitCode,
      ],
      ['time-limit', null],
    );
    assert.equal(read({ status: { id: 7, description: 'Runtime Error (SIGSEGV)' }, exit_signal: 11, exit_code: 0 }).signal, 'SIGSEGV');
    assert.equal(read({ status: { id: 8, description: 'Runtime Error (SIGXFSZ)' } }).status, 'output-limit');
    assert.equal(read({ status: { id: 12, description: 'Runtime Error (Other)' }, exit_signal: 24 }).status, 'time-limit');
  });

  it('OLE when the output reached max_file_size, even on a clean exit (Node ignores SIGXFSZ)', () => {
    assert.equal(read({}, 'x'.repeat(1025 * 1024)).status, 'output-limit');
    assert.equal(read({}, 'x'.repeat(1024 * 1024)).status, 'exited');
  });

  it('uses wall_time when Judge0 sends it; 13 and 14 are internal errors', () => {
    assert.deepEqual([read({}).timeMs, read({}).wallMs], [10, 50]);
    assert.equal(read({ status: { id: 13, description: 'Internal Error' } }).status, 'internal-error');
  });
});

describe('Judge0 limits and payloads', () => {
  it('clamps to /config_info maxima and sends the output limit as max_file_size', () => {
    const limits = { timeLimitMs: 30_000, memoryLimitMb: 1024, outputLimitBytes: 16 << 20 };
    assert.deepEqual(clampLimits(limits, 'c', {}), {
      cpu_time_limit: 15,
      wall_time_limit: 20,
      memory_limit: 512000,
      stack_limit: 128000,
      max_file_size: 4096,
    });
    assert.deepEqual(
      clampLimits({ timeLimitMs: 1500, memoryLimitMb: 64, outputLimitBytes: 65536 }, 'java', { max_memory_limit: 1 << 20 }),
      {
        cpu_time_limit: 1.5,
        wall_time_limit: 4,
        memory_limit: (64 + 160) * 1024,
        stack_limit: 65536,
        max_file_size: 65,
      },
    );
  });

  it('gives Java and Node the same memory headroom and heap flags as the local sandbox', () => {
    for (const id of LANGUAGE_IDS) assert.equal(MEMORY_HEADROOM_MB[id], TOOLCHAINS[id].memoryHeadroomMb, id);
    const sandboxJava = TOOLCHAINS.java.run({ memoryLimitMb: 200 });
    const judge0Java = runScript('java', '/usr/local/openjdk13/bin/java Main', 200).trim().split(' ');
    assert.equal(judge0Java[0], '/usr/local/openjdk13/bin/java');
    for (const flag of judge0Java.slice(1, -1)) assert.ok(sandboxJava.includes(flag), `${flag} is not a sandbox flag`);
    assert.ok(judge0Java.includes('-Xmx200m'));
    const sandboxNode = TOOLCHAINS.javascript.run({ memoryLimitMb: 200 });
    for (const flag of runScript('javascript', '/usr/local/node-12.14.0/bin/node script.js', 200).trim().split(' ').slice(1, -1))
      assert.ok(sandboxNode.includes(flag), flag);
  });

  it('builds a multi-file zip that unzip reads, with the source and the run script, and no source_code', () => {
    const java = resolveLanguages([{ id: 62, name: 'Java (OpenJDK 13.0.1)' }]).get('java')!;
    java.multiFile = {
      projectId: 89,
      sourceFile: 'Main.java',
      compileCmd: '/usr/local/openjdk13/bin/javac %s Main.java',
      runCmd: '/usr/local/openjdk13/bin/java Main',
    };
    const payload = submissionPayload({
      resolved: java,
      source: 'class Main {}',
      stdin: '',
      limits: clampLimits({ timeLimitMs: 1000, memoryLimitMb: 64, outputLimitBytes: 1000 }, 'java', {}),
      memoryLimitMb: 64,
      withCompilerOptions: true,
    });
    assert.equal(payload.language_id, 89);
    assert.equal(payload.source_code, undefined);
    assert.equal(payload.compiler_options, undefined);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zip-'));
    try {
      fs.writeFileSync(path.join(dir, 'a.zip'), Buffer.from(String(payload.additional_files), 'base64'));
      execFileSync('/usr/bin/unzip', ['-n', '-qq', 'a.zip'], { cwd: dir });
      assert.equal(fs.readFileSync(path.join(dir, 'Main.java'), 'utf8'), 'class Main {}');
      assert.match(fs.readFileSync(path.join(dir, 'run'), 'utf8'), /^\/usr\/local\/openjdk13\/bin\/java -Xmx64m .* Main\n$/);
      assert.match(
        fs.readFileSync(path.join(dir, 'compile'), 'utf8'),
        /^\/usr\/local\/openjdk13\/bin\/javac -encoding UTF-8 .* Main\.java$/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(zipStored({}).length, 22);
  });

  it('picks the newest matching Judge0 language', () => {
    const resolved = resolveLanguages([
      { id: 48, name: 'C (GCC 7.4.0)' },
      { id: 50, name: 'C (GCC 9.2.0)' },
      { id: 49, name: 'C (GCC 8.3.0)' },
      { id: 70, name: 'Python (2.7.17)' },
    ]);
    assert.equal(resolved.get('c')?.id, 50);
    assert.equal(resolved.has('python'), false);
  });
});
