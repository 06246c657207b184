/**
 * The Judge0 adapter against a test server that answers like Judge0 1.13.1 (tests/helpers/
 * judge0TestServer.ts) and really runs the programs in the local sandbox as `/bin/bash run`.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createJudge0Executor, Judge0Executor, Judge0MaintenanceError, Judge0QueueFullError } from '../../worker/src/executors/judge0';
import { ExecutorUnavailableError, ExecutionLimits, RunOutcome } from '../../worker/src/executors/port';
import type { Language } from '../../core/src/languages';
import { Judge0TestServer, Judge0TestServerOptions, settingsFromJudge0Conf, startJudge0TestServer } from '../helpers/judge0TestServer';

const SUM_PY = 'a, b = map(int, input().split())\nprint(a + b)';
const limits: ExecutionLimits = { timeLimitMs: 2000, memoryLimitMb: 128, outputLimitBytes: 1 << 20 };
const sumCases = (n: number) => Array.from({ length: n }, (_, i) => ({ index: i + 1, input: `${i} ${i}\n` }));
const fast = { pollInitialMs: 20, pollMaxMs: 100, sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 50))) };

describe('Judge0 executor', function () {
  this.timeout(180_000);
  let judge0: Judge0TestServer;
  afterEach(() => judge0?.close());

  const start = async (opts: Judge0TestServerOptions = {}) => {
    judge0 = await startJudge0TestServer({ authToken: 'tok', uidBase: 62200, ...opts });
    return judge0;
  };
  const connect = (extra: Partial<Parameters<typeof createJudge0Executor>[0]> = {}) =>
    createJudge0Executor({ baseUrl: judge0.baseUrl, authToken: 'tok', ...fast, ...extra });
  const runOne = async (
    executor: Judge0Executor,
    language: Language,
    source: string,
    input = '',
    lim: Partial<ExecutionLimits> = {},
  ): Promise<RunOutcome> => {
    const report = await executor.execute({
      id: `one-${language}`,
      language,
      source,
      cases: [{ index: 1, input }],
      limits: { ...limits, ...lim },
    });
    assert.equal(report.compile.ok, true, report.compile.output);
    return report.runs[0].outcome;
  };
  const lastPosted = () =>
    judge0.posted[judge0.posted.length - 1].body as { submissions?: Array<Record<string, unknown>> } & Record<string, unknown>;

  describe('languages and compiling', () => {
    it('resolves the newest Judge0 language for each of ours and reports names and versions as Judge0 does', async () => {
      await start();
      const executor = await connect();
      const names = Object.fromEntries(executor.languages().map((l) => [l.id, `${l.name} | ${l.version}`]));
      assert.deepEqual(names, {
        python: 'Python (3.8.1) | 3.8.1',
        javascript: 'JavaScript (Node.js 12.14.0) | Node.js 12.14.0',
        c: 'C (GCC 9.2.0) | GCC 9.2.0',
        cpp: 'C++ (GCC 9.2.0) | GCC 9.2.0',
        java: 'Java (OpenJDK 13.0.1) | OpenJDK 13.0.1',
        go: 'Go (1.13.5) | 1.13.5',
        rust: 'Rust (1.40.0) | 1.40.0',
      });
      assert.equal(executor.resolved('c')?.id, 50);
      assert.equal(executor.batchSize, 20);
    });

    it('links C programs that use <math.h> (Judge0 compiles `gcc %s main.c` without -lm)', async () => {
      await start();
      const executor = await connect();
      const source =
        '#include <math.h>\n#include <stdio.h>\nint main(){double x; if(scanf("%lf",&x)!=1) return 1; printf("%.3f\\n", sqrt(x) + cbrt(x));}';
      const outcome = await runOne(executor, 'c', source, '8\n');
      assert.deepEqual([outcome.status, outcome.stdout], ['exited', '4.828\n']);
      assert.match(String(lastPosted().submissions![0].compiler_options), /-O2 -std=c17 .*-lm/);
    });

    it('compiles C++ as C++17 like the local sandbox (GCC 9 defaults to gnu++14)', async () => {
      await start();
      const executor = await connect();
      const source =
        '#include <cstdio>\n#include <optional>\n#include <utility>\nint main(){ auto [a, b] = std::pair<int,int>(2, 3); std::optional<int> o = a * b; std::printf("%d\\n", *o); }';
      assert.equal((await runOne(executor, 'cpp', source)).stdout, '6\n');
      assert.equal(lastPosted().submissions![0].compiler_options, '-O2 -std=c++17');
    });

    it('grades Go (language 60) and Rust (language 73, optimised as edition 2018): output, panics and compile errors', async () => {
      await start();
      const executor = await connect();
      const go = 'package main\nimport "fmt"\nfunc main() { var n int; fmt.Scan(&n); a := []int{7}; fmt.Println(a[n]) }';
      const rust =
        'use std::io::Read;\nfn main() { let mut s = String::new(); std::io::stdin().read_to_string(&mut s).unwrap(); ' +
        'let n: usize = s.trim().parse().unwrap(); let a = vec![7]; println!("{}", a[n]); }';
      for (const [language, source, id, panicCode] of [
        ['go', go, 60, 2],
        ['rust', rust, 73, 101],
      ] as const) {
        const report = await executor.execute({
          id: `lang-${language}`,
          language,
          source,
          cases: [
            { index: 1, input: '0\n' },
            { index: 2, input: '3\n' },
          ],
          limits,
        });
        assert.equal(report.compile.ok, true, report.compile.output);
        assert.deepEqual(
          report.runs.map((r) => [r.outcome.status, r.outcome.exitCode, r.outcome.stdout]),
          [
            ['exited', 0, '7\n'],
            ['exited', panicCode, ''],
          ],
          language,
        );
        assert.equal(lastPosted().submissions![0].language_id, id);
      }
      assert.equal(lastPosted().submissions![0].compiler_options, '-O --edition 2018 -C link-arg=-s');
      const ce = await executor.execute({
        id: 'ce-go',
        language: 'go',
        source: 'package main\nfunc main() { x := }',
        cases: sumCases(1),
        limits,
      });
      assert.equal(ce.compile.ok, false);
      assert.match(ce.compile.output, /main\.go:2/);
    });

    it('keeps compiler warnings of a program that compiles', async () => {
      await start();
      const executor = await connect();
      const report = await executor.execute({
        id: 'warn',
        language: 'c',
        source: '#include <stdio.h>\n#warning "checked by the author"\nint main(){ puts("ok"); return 0; }',
        cases: sumCases(2),
        limits,
      });
      assert.equal(report.compile.ok, true);
      assert.match(report.compile.output, /warning: #warning "checked by the author"/);
      assert.deepEqual(
        report.runs.map((r) => r.outcome.stdout),
        ['ok\n', 'ok\n'],
      );
    });

    it('reports a compile error once, with the compiler output', async () => {
      await start();
      const executor = await connect();
      const report = await executor.execute({ id: 'ce', language: 'cpp', source: 'int main() { return x; }', cases: sumCases(3), limits });
      assert.equal(report.compile.ok, false);
      assert.match(report.compile.output, /was not declared/);
      assert.deepEqual(report.runs, []);
    });

    it('retries without compiler_options when the server refuses them (422), and says so in the compile output', async () => {
      // The server restricts options to C++ but its /config_info does not say so (a proxy or patched build).
      await start({
        settings: { allowedLanguagesForCompilerOptions: ['C++'] },
        configInfoOverrides: { allowed_languages_for_compile_options: [] },
      });
      const notices: string[] = [];
      const executor = await connect({ onNotice: (m) => notices.push(m) });
      const before = judge0.created();
      const report = await executor.execute({
        id: 'opt',
        language: 'c',
        source: '#include <stdio.h>\nint main(){ puts("plain"); }',
        cases: sumCases(3),
        limits,
      });
      assert.deepEqual(
        report.runs.map((r) => [r.outcome.status, r.outcome.stdout]),
        [
          ['exited', 'plain\n'],
          ['exited', 'plain\n'],
          ['exited', 'plain\n'],
        ],
      );
      assert.match(report.compile.output, /compiler options refused \(setting compiler options is only allowed for C\+\+\)/);
      assert.equal(judge0.created() - before, 3, 'each case created once');
      assert.ok(notices.some((n) => /refused compiler_options/.test(n)));
      // From then on the adapter does not send them again for that language.
      await runOne(executor, 'c', '#include <stdio.h>\nint main(){ puts("x"); }');
      assert.equal(lastPosted().submissions![0].compiler_options, undefined);
    });

    it('does not send compiler options the server reports as not allowed, and notes it', async () => {
      await start({ settings: { enableCompilerOptions: false } });
      const executor = await connect();
      const report = await executor.execute({
        id: 'noopt',
        language: 'cpp',
        source: '#include <cstdio>\nint main(){ std::puts("y"); }',
        cases: sumCases(1),
        limits,
      });
      assert.equal(report.runs[0].outcome.stdout, 'y\n');
      assert.match(report.compile.output, /does not allow compiler options/);
      assert.equal(lastPosted().submissions![0].compiler_options, undefined);
    });
  });

  describe('results as real Judge0 shapes them', () => {
    it('runs every case in one batch POST and a few batched polls, streaming each case', async () => {
      await start();
      const executor = await connect();
      judge0.requests.length = 0;
      const seen: number[] = [];
      const report = await executor.execute({ id: 'sum', language: 'python', source: SUM_PY, cases: sumCases(5), limits }, (r) =>
        seen.push(r.index),
      );
      assert.deepEqual(
        report.runs.map((r) => [r.index, r.outcome.status, r.outcome.stdout]),
        [
          [1, 'exited', '0\n'],
          [2, 'exited', '2\n'],
          [3, 'exited', '4\n'],
          [4, 'exited', '6\n'],
          [5, 'exited', '8\n'],
        ],
      );
      assert.deepEqual(seen.sort(), [1, 2, 3, 4, 5]);
      assert.equal(judge0.requests.filter((r) => r === 'POST /submissions/batch').length, 1);
      assert.ok(judge0.requests.filter((r) => r === 'GET /submissions/batch').length >= 1);
      assert.equal(
        judge0.requests.filter((r) => r.startsWith('GET /submissions/') && r !== 'GET /submissions/batch').length,
        0,
        'no per-token polling',
      );
    });

    it('splits more cases than the batch limit into several POSTs', async () => {
      await start({ settings: { maxSubmissionBatchSize: 3 } });
      const executor = await connect();
      judge0.requests.length = 0;
      const report = await executor.execute({ id: 'many', language: 'python', source: SUM_PY, cases: sumCases(7), limits });
      assert.ok(report.runs.every((r) => r.outcome.status === 'exited'));
      assert.equal(judge0.requests.filter((r) => r === 'POST /submissions/batch').length, 3);
    });

    it('reads bash exit codes 128+N as signals: 139 SIGSEGV and 136 SIGFPE are runtime errors', async () => {
      await start();
      const executor = await connect();
      const segv = await runOne(executor, 'c', 'int main(){ volatile int *p = 0; return *p; }');
      assert.deepEqual([segv.status, segv.signal, segv.exitCode], ['signaled', 'SIGSEGV', null]);
      // raise(): integer division by zero does not trap on every virtual CPU.
      const fpe = await runOne(executor, 'c', '#include <signal.h>\nint main(){ raise(SIGFPE); return 0; }');
      assert.deepEqual([fpe.status, fpe.signal], ['signaled', 'SIGFPE']);
      const exit4 = await runOne(executor, 'python', 'import sys\nsys.exit(4)');
      assert.deepEqual([exit4.status, exit4.exitCode, exit4.signal], ['exited', 4, null]);
    });

    it('maps a time-out (exit_code 0 from Judge0) to time-limit, not to a clean exit', async () => {
      await start();
      const executor = await connect();
      const tle = await runOne(executor, 'python', 'while True: pass', '', { timeLimitMs: 1000 });
      assert.deepEqual([tle.status, tle.exitCode], ['time-limit', null]);
    });

    it('asks for wall_time: a sleeping program shows wall time apart from CPU time', async () => {
      await start();
      const executor = await connect();
      const slept = await runOne(executor, 'python', 'import time\ntime.sleep(0.6)\nprint("up")');
      assert.equal(slept.status, 'exited');
      assert.ok(slept.wallMs >= 500 && slept.timeMs < 400, `wall ${slept.wallMs} ms, cpu ${slept.timeMs} ms`);
    });

    it('infers memory limit exceeded from exit 137 near the limit and from runtime messages', async () => {
      await start();
      const executor = await connect();
      const c = await runOne(
        executor,
        'c',
        '#include <stdlib.h>\n#include <string.h>\nint main(){for(;;){char*p=malloc(1<<20); if(p) memset(p,1,1<<20);}}',
        '',
        { memoryLimitMb: 64 },
      );
      assert.equal(c.status, 'memory-limit');
      const py = await runOne(executor, 'python', 'x = []\nwhile True: x.append(bytearray(1 << 20))', '', { memoryLimitMb: 64 });
      assert.equal(py.status, 'memory-limit');
    });
  });

  describe('output and file size', () => {
    it('sends stack_limit and max_file_size, clamped to the maxima of /config_info', async () => {
      await start({ settings: { maxMaxFileSize: 2048, maxStackLimit: 65536 } });
      const executor = await connect();
      await runOne(executor, 'python', 'print(1)', '', { memoryLimitMb: 256, outputLimitBytes: 16 << 20 });
      const sent = lastPosted().submissions![0];
      assert.equal(sent.max_file_size, 2048);
      assert.equal(sent.stack_limit, 65536);
      await runOne(executor, 'python', 'print(1)', '', { memoryLimitMb: 32, outputLimitBytes: 100_000 });
      assert.deepEqual([lastPosted().submissions![0].max_file_size, lastPosted().submissions![0].stack_limit], [99, 32768]);
    });

    it('passes a large output that the grader allows (3 MB under the default 16 MB limit): no false RE', async () => {
      await start();
      const executor = await connect();
      const big = await runOne(executor, 'python', 'import sys\nsys.stdout.write("x" * 3000000 + "\\n")', '', {
        outputLimitBytes: 16 << 20,
      });
      assert.equal(big.status, 'exited');
      assert.equal(big.stdout.length, 3000001);
    });

    it('reports output over the limit as OLE whatever the runtime does at max_file_size (SIGXFSZ 153, Python "File too large", Node exit 0)', async () => {
      await start();
      const executor = await connect();
      // Above Judge0's default max_file_size (1024 KB): the adapter must send its own.
      const lim = { outputLimitBytes: 2_000_000 };
      const c = await runOne(executor, 'c', "#include <stdio.h>\nint main(){ for (int i = 0; i < 5000000; i++) putchar('x'); }", '', lim);
      assert.equal(c.status, 'output-limit', JSON.stringify({ ...c, stdout: c.stdout.length }));
      const py = await runOne(executor, 'python', 'print("x" * 5000000)', '', lim);
      assert.equal(py.status, 'output-limit');
      const js = await runOne(executor, 'javascript', 'process.stdout.write("x".repeat(5000000))', '', lim);
      assert.equal(js.status, 'output-limit');
    });

    it('fetches large possible outputs a few at a time: statuses first, then at most 5 full results per GET at a 4 MB cap', async () => {
      await start();
      const executor = await connect();
      judge0.gets.length = 0;
      const report = await executor.execute({
        id: 'heavy',
        language: 'python',
        source: SUM_PY,
        cases: sumCases(8),
        limits: { ...limits, outputLimitBytes: 16 << 20 },
      });
      assert.deepEqual(
        report.runs.map((r) => r.outcome.stdout),
        ['0\n', '2\n', '4\n', '6\n', '8\n', '10\n', '12\n', '14\n'],
      );
      const polls = judge0.gets.filter((g) => g.startsWith('/submissions/batch')).map((g) => new URL(g, 'http://x').searchParams);
      assert.ok(polls.some((q) => q.get('fields') === 'token,status'));
      const full = polls.filter((q) => q.get('fields')!.includes('stdout'));
      assert.ok(
        full.length >= 2 && full.every((q) => q.get('tokens')!.split(',').length <= 5),
        full.map((q) => q.get('tokens')).join(' | '),
      );
    });

    it('keeps no more output per case than the limit needs', async () => {
      await start();
      const executor = await connect();
      const out = await runOne(executor, 'python', 'print("y" * 5000)', '', { outputLimitBytes: 1000 });
      assert.equal(out.status, 'output-limit');
      assert.ok(out.stdout.length <= 1001, `kept ${out.stdout.length} bytes`);
    });
  });

  describe('Java and JavaScript memory semantics', () => {
    it('runs Java as a multi-file program whose run script passes -Xmx, with the sandbox headroom on the box', async () => {
      await start();
      const executor = await connect();
      const source =
        'public class Main { public static void main(String[] a) { byte[] b = new byte[40 << 20]; b[7] = 1; System.out.println(b.length + b[7]); } }';
      const ok = await runOne(executor, 'java', source, '', { memoryLimitMb: 64, timeLimitMs: 5000 });
      assert.deepEqual([ok.status, ok.stdout], ['exited', `${(40 << 20) + 1}\n`]);
      const sent = lastPosted().submissions![0];
      assert.equal(sent.language_id, 89);
      assert.equal(sent.memory_limit, (64 + 160) * 1024);
      assert.equal(sent.source_code, undefined);
      const tooBig =
        'public class Main { public static void main(String[] a) { byte[] b = new byte[100 << 20]; System.out.println(b.length); } }';
      const mle = await runOne(executor, 'java', tooBig, '', { memoryLimitMb: 64, timeLimitMs: 5000 });
      assert.equal(mle.status, 'memory-limit', JSON.stringify(mle));
    });

    it('gives Node its heap limit through the run script', async () => {
      await start();
      const executor = await connect();
      const grow = 'const a = []; for (;;) a.push(new Array(1e5).fill(1.5));';
      const mle = await runOne(executor, 'javascript', grow, '', { memoryLimitMb: 64, timeLimitMs: 5000 });
      assert.equal(mle.status, 'memory-limit');
      assert.equal(lastPosted().submissions![0].language_id, 89);
    });

    it('falls back to 62/63 when a multi-file program fails on the server although it lists language 89', async () => {
      await start({ settings: { enableAdditionalFiles: false }, configInfoOverrides: { enable_additional_files: true } });
      const notices: string[] = [];
      const executor = await connect({ onNotice: (m) => notices.push(m) });
      assert.ok(
        notices.some((n) =>
          /multi-file program \(language 89\) failed on this Judge0 .*additional_files: setting additional files is not allowed/.test(n),
        ),
        notices.join('\n'),
      );
      const ok = await runOne(executor, 'javascript', 'console.log("plain")');
      assert.equal(ok.stdout, 'plain\n');
      assert.equal(lastPosted().submissions![0].language_id, 63);
    });

    it('falls back to language 62 with the same box headroom when multi-file programs are off', async () => {
      await start({ settings: { enableAdditionalFiles: false } });
      const notices: string[] = [];
      const executor = await connect({ onNotice: (m) => notices.push(m) });
      const ok = await runOne(
        executor,
        'java',
        'public class Main { public static void main(String[] a) { System.out.println("hi"); } }',
        '',
        { memoryLimitMb: 64, timeLimitMs: 5000 },
      );
      assert.equal(ok.stdout, 'hi\n');
      assert.equal(lastPosted().submissions![0].language_id, 62);
      assert.equal(lastPosted().submissions![0].memory_limit, (64 + 160) * 1024);
      assert.ok(notices.some((n) => /without runtime memory flags/.test(n)));
    });
  });

  describe('server configurations and failures', () => {
    it('grades correctly on a Judge0 configured by the judge0.conf this project deploys', async () => {
      const template = fs.readFileSync(path.join(__dirname, '../../judge0-host/judge0.conf.template'), 'utf8');
      const settings = settingsFromJudge0Conf(template.replace(/\$\{[A-Z0-9_]+\}/g, '2'));
      await start({ settings });
      const executor = await connect();
      const math = '#include <math.h>\n#include <stdio.h>\nint main(){ double x; scanf("%lf", &x); printf("%.1f\\n", sqrt(x)); return 0; }';
      assert.equal((await runOne(executor, 'c', math, '16\n')).stdout, '4.0\n');
      const big = await runOne(executor, 'python', 'import sys\nsys.stdout.write("z" * 3000000)', '', { outputLimitBytes: 16 << 20 });
      assert.deepEqual([big.status, big.stdout.length], ['exited', 3_000_000]);
      assert.equal(
        (
          await runOne(executor, 'java', 'public class Main { public static void main(String[] a) { System.out.println(7); } }', '', {
            timeLimitMs: 5000,
          })
        ).stdout,
        '7\n',
      );
    });

    it('submits one by one when batching is disabled (400 on /batch), as /config_info says', async () => {
      await start({ settings: { enableBatchedSubmissions: false } });
      const executor = await connect();
      judge0.requests.length = 0;
      const report = await executor.execute({ id: 'single', language: 'python', source: SUM_PY, cases: sumCases(3), limits });
      assert.deepEqual(
        report.runs.map((r) => r.outcome.stdout),
        ['0\n', '2\n', '4\n'],
      );
      assert.equal(judge0.requests.filter((r) => r.includes('/batch')).length, 0);
      assert.equal(judge0.requests.filter((r) => r === 'POST /submissions').length, 3);
    });

    it('falls back to single submissions when /batch answers 400 although /config_info claimed batching', async () => {
      await start({ settings: { enableBatchedSubmissions: false }, configInfoOverrides: { enable_batched_submissions: true } });
      const executor = await connect();
      const report = await executor.execute({ id: 'fallback', language: 'python', source: SUM_PY, cases: sumCases(2), limits });
      assert.deepEqual(
        report.runs.map((r) => r.outcome.stdout),
        ['0\n', '2\n'],
      );
      assert.equal(executor.batchSize, 1);
    });

    it('keeps the valid items of a mixed 201 batch and reports the rejected one as an internal error', async () => {
      await start();
      const executor = await connect();
      const before = judge0.created();
      judge0.faults.rejectItems = { count: 1, errors: { stdin: ['is invalid'] } };
      const report = await executor.execute({ id: 'mixed', language: 'python', source: SUM_PY, cases: sumCases(3), limits });
      assert.deepEqual(
        report.runs.map((r) => r.outcome.status),
        ['internal-error', 'exited', 'exited'],
      );
      assert.match(report.runs[0].outcome.message ?? '', /rejected case 1: stdin: is invalid/);
      assert.equal(judge0.created() - before, 2);
    });

    it('treats maintenance mode (503) as unavailable with a back-off, as a typed error', async () => {
      await start({ settings: { maintenanceMode: true, maintenanceMessage: 'back soon', enableBatchedSubmissions: false } });
      const executor = await connect({ maintenanceRetryMs: 12_345 });
      await assert.rejects(executor.execute({ id: 'm', language: 'python', source: SUM_PY, cases: sumCases(1), limits }), (e: Error) => {
        return (
          e instanceof Judge0MaintenanceError &&
          e instanceof ExecutorUnavailableError &&
          e.retryAfterMs === 12_345 &&
          /back soon/.test(e.message)
        );
      });
    });

    it('waits out 503 "queue is full" and resubmits; past the deadline it is a typed Judge0QueueFullError', async () => {
      await start();
      // The queue frees while the executor waits it out (its first wait: nothing else can happen while the queue is full).
      let waitsWhileFull = 0;
      const freeWhileWaiting = async (ms: number) => {
        if (judge0.settings.maxQueueSize === 0) {
          waitsWhileFull++;
          judge0.settings.maxQueueSize = 100;
        }
        await fast.sleep(ms);
      };
      const executor = await connect({ sleep: freeWhileWaiting });
      judge0.settings.maxQueueSize = 0;
      const report = await executor.execute({ id: 'q', language: 'python', source: SUM_PY, cases: sumCases(2), limits });
      assert.equal(report.runs.length, 2);
      assert.equal(waitsWhileFull, 1, 'it waited once while the queue was full, then resubmitted');
      judge0.settings.maxQueueSize = 0;
      const hurried = await connect({ jobDeadlineMs: 200 });
      await assert.rejects(
        hurried.execute({ id: 'q2', language: 'python', source: SUM_PY, cases: sumCases(1), limits }),
        Judge0QueueFullError,
      );
    });

    it('retries a case that ended in Internal Error, then reports IE if it persists', async () => {
      await start();
      const executor = await connect({ internalErrorRetries: 1 });
      judge0.faults.forceStatus = { count: 1, status: 13 };
      const recovered = await executor.execute({ id: 'ie', language: 'python', source: SUM_PY, cases: sumCases(2), limits });
      assert.ok(
        recovered.runs.every((r) => r.outcome.status === 'exited'),
        JSON.stringify(recovered.runs),
      );
      judge0.faults.forceStatus = { count: 2, status: 14 };
      const persistent = await executor.execute({ id: 'ie2', language: 'python', source: SUM_PY, cases: sumCases(1), limits });
      assert.equal(persistent.runs[0].outcome.status, 'internal-error');
      assert.match(persistent.runs[0].outcome.message ?? '', /Exec Format Error/);
    });

    it('holds a job stuck past the deadline once without resubmitting, then gives the unfinished cases a verdict (IE)', async () => {
      await start();
      const executor = await connect({ jobDeadlineMs: 300, deadlineAttempts: 2 });
      judge0.faults.stuck = true;
      const before = judge0.created();
      const job = { id: 'stuck', language: 'python' as const, source: SUM_PY, cases: sumCases(2), limits };
      await assert.rejects(executor.execute(job), (e: Error) => e instanceof ExecutorUnavailableError && /stuck In Queue/.test(e.message));
      assert.equal(judge0.created() - before, 2);
      const report = await executor.execute(job);
      assert.equal(judge0.created() - before, 2, 'the retry polls the same submissions instead of creating new ones');
      assert.deepEqual(
        report.runs.map((r) => r.outcome.status),
        ['internal-error', 'internal-error'],
      );
      assert.match(report.runs[0].outcome.message ?? '', /did not finish case 1 after 2 attempt/);
    });

    it('a held job that finishes on the retry is graded from the first submissions', async () => {
      await start();
      const executor = await connect({ jobDeadlineMs: 300 });
      judge0.faults.stuck = true;
      const before = judge0.created();
      const job = { id: 'late', language: 'python' as const, source: SUM_PY, cases: sumCases(2), limits };
      await assert.rejects(executor.execute(job), ExecutorUnavailableError);
      judge0.faults.stuck = false;
      const patient = executor as unknown as { opts: { jobDeadlineMs: number } };
      patient.opts.jobDeadlineMs = 60_000;
      const report = await executor.execute(job);
      assert.deepEqual(
        report.runs.map((r) => r.outcome.stdout),
        ['0\n', '2\n'],
      );
      assert.equal(judge0.created() - before, 2);
    });

    it('retries 5xx responses and then succeeds', async () => {
      await start();
      const executor = await connect();
      judge0.faults.failNext = { count: 2, status: 502 };
      const report = await executor.execute({ id: 'r', language: 'python', source: SUM_PY, cases: sumCases(1), limits });
      assert.equal(report.runs[0].outcome.stdout, '0\n');
    });

    it('fails clearly, without retry storms, when the token is rejected', async () => {
      await start();
      await assert.rejects(
        createJudge0Executor({ baseUrl: judge0.baseUrl, authToken: 'wrong', ...fast }),
        (e: Error) => e instanceof ExecutorUnavailableError && /rejected the auth token/.test(e.message),
      );
      assert.equal(judge0.requests.length, 1);
    });

    it('opens the circuit after repeated failures, then half-opens after the cool-down', async () => {
      await start();
      const executor = await connect({ requestAttempts: 2, breakerFailureThreshold: 2, breakerCoolDownMs: 300 });
      judge0.faults.failNext = { count: 100, status: 500 };
      await assert.rejects(
        executor.execute({ id: 'b1', language: 'python', source: SUM_PY, cases: sumCases(1), limits }),
        ExecutorUnavailableError,
      );
      const before = judge0.requests.length;
      await assert.rejects(executor.execute({ id: 'b2', language: 'python', source: SUM_PY, cases: sumCases(1), limits }), /circuit open/);
      assert.equal(judge0.requests.length, before, 'an open circuit sends nothing');
      judge0.faults.failNext = { count: 0, status: 500 };
      // Poll until the cool-down is over: until then every call is refused at once, without a request.
      const deadline = Date.now() + 10_000;
      const job = { id: 'b3', language: 'python' as const, source: SUM_PY, cases: sumCases(1), limits };
      let report;
      while (!report) {
        report = await executor.execute(job).catch((error: Error) => {
          if (!/circuit open/.test(error.message) || Date.now() > deadline) throw error;
          assert.equal(judge0.requests.length, before, 'an open circuit sends nothing');
          return fast.sleep(20).then(() => undefined);
        });
      }
      assert.equal(report.runs[0].outcome.stdout, '0\n');
    });

    it('times out a hanging server', async () => {
      await start();
      const executor = await connect({ requestTimeoutMs: 200, requestAttempts: 2 });
      judge0.faults.hang = true;
      await assert.rejects(
        executor.execute({ id: 'h', language: 'python', source: SUM_PY, cases: sumCases(1), limits }),
        (e: Error) => e instanceof ExecutorUnavailableError && /unreachable after 2 tries/.test(e.message),
      );
    });
  });
});
