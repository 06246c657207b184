/**
 * The test server itself against what Judge0 1.13.1's sources say (the behaviours the adapter and
 * judge0-check rely on): if the imitation drifts from Judge0, these fail before the adapter's tests
 * can pass for the wrong reason.
 */
import assert from 'node:assert/strict';
import { zipStored } from '../../worker/src/executors/judge0/zip';
import { Judge0TestServer, Judge0TestServerOptions, rubyEncode64, startJudge0TestServer } from '../helpers/judge0TestServer';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('Judge0 test server (fidelity to Judge0 1.13.1)', function () {
  this.timeout(120_000);
  let judge0: Judge0TestServer;
  afterEach(() => judge0?.close());
  const start = async (opts: Judge0TestServerOptions = {}) => (judge0 = await startJudge0TestServer({ uidBase: 63050, ...opts }));
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${judge0.baseUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };

  it('answers 401 with an empty body without the token, and serves /config_info and /languages', async () => {
    await start({ authToken: 's3cret' });
    assert.deepEqual(await call('GET', '/languages'), { status: 401, body: undefined });
    const config = await call('GET', '/config_info', undefined, { 'X-Auth-Token': 's3cret' });
    assert.equal(config.body.max_max_file_size, 4096);
    assert.equal(config.body.max_stack_limit, 128000);
    assert.equal(config.body.max_cpu_time_limit, 15);
    const languages = await call('GET', '/languages?X-Auth-Token=s3cret');
    const names = languages.body.map((l: { name: string }) => l.name);
    assert.deepEqual(
      names,
      [...names].sort((a: string, b: string) => a.localeCompare(b)),
    );
    assert.ok(names.includes('Multi-file program') && !names.includes('Bash (4.4)'), 'archived languages are not listed');
  });

  it('validates per item: a mixed batch is 201 with a token or {field: [messages]} per item; all invalid is 422', async () => {
    await start();
    const mixed = await call('POST', '/submissions/batch?base64_encoded=true', {
      submissions: [
        { language_id: 71, source_code: b64('print(1)') },
        { language_id: 71, source_code: b64('x'), memory_limit: 1, cpu_time_limit: 99 },
        { language_id: 4242 },
      ],
    });
    assert.equal(mixed.status, 201);
    assert.ok(typeof mixed.body[0].token === 'string');
    assert.deepEqual(mixed.body[1], {
      cpu_time_limit: ['must be less than or equal to 15.0'],
      memory_limit: ['must be greater than or equal to 2048'],
    });
    assert.deepEqual(mixed.body[2], { source_code: ["can't be blank"], language_id: ["language with id 4242 doesn't exist"] });
    const none = await call('POST', '/submissions/batch', {
      submissions: [{ language_id: 63, source_code: 'x', compiler_options: '-O2' }],
    });
    assert.deepEqual(none, {
      status: 422,
      body: [{ compiler_options: ['setting compiler options is only allowed for compiled languages'] }],
    });
  });

  it('refuses wait=true when waiting is off, /batch when batching is off, and 503s in maintenance or when the queue is full', async () => {
    await start({ settings: { enableWaitResult: false, enableBatchedSubmissions: false, maxQueueSize: 1 } });
    assert.deepEqual(await call('POST', '/submissions?wait=true', { language_id: 71, source_code: 'print(1)' }), {
      status: 400,
      body: { error: 'wait not allowed' },
    });
    assert.deepEqual(await call('GET', '/submissions/batch?tokens=a'), {
      status: 400,
      body: { error: 'batched submissions are not allowed' },
    });
    judge0.faults.stuck = true;
    assert.equal((await call('POST', '/submissions', { language_id: 71, source_code: 'print(1)' })).status, 201);
    assert.deepEqual(await call('POST', '/submissions', { language_id: 71, source_code: 'print(1)' }), {
      status: 503,
      body: { error: 'queue is full' },
    });
    judge0.settings.maintenanceMode = true;
    judge0.settings.maintenanceMessage = 'upgrading';
    assert.deepEqual(await call('POST', '/submissions', { language_id: 71, source_code: 'print(1)' }), {
      status: 503,
      body: { error: 'upgrading' },
    });
  });

  it('shapes results like Judge0: bash exit codes, exit_code 0 on TLE, Ruby base64, wall_time only when asked, invalid fields 400', async () => {
    await start();
    const run = async (source: string, extra: Record<string, unknown> = {}, fields = '') =>
      (
        await call('POST', `/submissions?base64_encoded=true&wait=true${fields ? `&fields=${fields}` : ''}`, {
          language_id: 50,
          source_code: b64(source),
          ...extra,
        })
      ).body;
    const segv = await run('int main(){ volatile int *p = 0; return *p; }', {}, 'status,exit_code,exit_signal,stderr');
    assert.deepEqual([segv.status.id, segv.exit_code, segv.exit_signal], [11, 139, null]);
    assert.match(Buffer.from(segv.stderr, 'base64').toString(), /Segmentation fault/);
    const tle = await run('int main(){ for(;;); }', { cpu_time_limit: 1 }, 'status,exit_code,time');
    assert.deepEqual([tle.status.id, tle.exit_code], [5, 0]);
    assert.equal(typeof tle.time, 'string');
    const big = await run('#include <stdio.h>\nint main(){ for (int i = 0; i < 100; i++) puts("a line of output that is long enough"); }');
    assert.deepEqual(Object.keys(big).sort(), ['compile_output', 'memory', 'message', 'status', 'stderr', 'stdout', 'time', 'token']);
    assert.equal(big.stdout, rubyEncode64(Buffer.from('a line of output that is long enough\n'.repeat(100))));
    assert.match(big.stdout, /^.{60}\n/);
    const withWall = await run('int main(){ return 0; }', {}, 'wall_time,time');
    assert.deepEqual(Object.keys(withWall).sort(), ['time', 'wall_time']);
    assert.deepEqual(await call('GET', '/submissions/x?fields=token,bogus'), { status: 400, body: { error: 'invalid fields: [bogus]' } });
    const xfsz = await run(
      '#include <stdio.h>\nint main(){ for (int i = 0; i < 3000000; i++) putchar(120); }',
      { max_file_size: 1024 },
      'status,exit_code,stdout',
    );
    assert.deepEqual([xfsz.status.id, xfsz.exit_code, Buffer.from(xfsz.stdout, 'base64').length], [11, 153, 1024 * 1024]);
  });

  it('runs a multi-file program (language 89) as isolate_job.rb does: zip into the box, compile then run scripts', async () => {
    await start({ settings: { maxExtractSize: 1 } });
    const project = (files: Record<string, string>, extra: Record<string, unknown> = {}) =>
      call('POST', '/submissions?base64_encoded=true&wait=true&fields=status,exit_code,stdout,stderr,compile_output', {
        language_id: 89,
        additional_files: zipStored(files).toString('base64'),
        ...extra,
      });
    const files = {
      compile: 'echo compiling; echo warning >&2; printf "int main(){return 7;}" > p.c && /usr/bin/gcc -o p p.c\n',
      run: 'wc -c < big.txt; ls; cat in.txt >&2; ./p\n',
      'in.txt': 'from the zip',
      'big.txt': 'x'.repeat(4000),
    };
    const ran = (await project(files)).body;
    // The checker's/program's code arrives as NZEC with exit_code; compile output joins stderr to stdout.
    assert.deepEqual([ran.status.id, ran.exit_code], [11, 7]);
    assert.equal(Buffer.from(ran.compile_output, 'base64').toString(), 'compiling\nwarning\n');
    const [size, ...listing] = Buffer.from(ran.stdout, 'base64').toString().trim().split('\n');
    assert.ok(Number(size) <= 1024, `big.txt cut at MAX_EXTRACT_SIZE (1 KB), got ${size}`);
    // The project's compile script stays in the box (isolate_job.rb:168-169); the zip itself is gone.
    assert.deepEqual(listing.sort(), ['big.txt', 'compile', 'in.txt', 'p', 'p.c', 'run']);
    assert.equal(Buffer.from(ran.stderr, 'base64').toString(), 'from the zip');
    const failed = (await project({ ...files, compile: 'exit 1\n' })).body;
    assert.equal(failed.status.id, 6);
    const refused = await project(files, { source_code: b64('x') });
    assert.deepEqual(refused, { status: 422, body: { source_code: ['must be blank'] } });
    const missing = await call('POST', '/submissions', { language_id: 89 });
    assert.deepEqual(missing, { status: 422, body: { additional_files: ["can't be blank"] } });
  });

  it('compiles C without -lm and without optimisation unless compiler_options say so', async () => {
    await start();
    const math = b64('#include <math.h>\n#include <stdio.h>\nint main(){ double x; scanf("%lf", &x); printf("%.1f\\n", sqrt(x)); }');
    const plain = await call('POST', '/submissions?base64_encoded=true&wait=true&fields=status,compile_output', {
      language_id: 50,
      source_code: math,
      stdin: b64('9'),
    });
    assert.equal(plain.body.status.id, 6);
    assert.match(Buffer.from(plain.body.compile_output, 'base64').toString(), /undefined reference to `sqrt'/);
    const linked = await call('POST', '/submissions?base64_encoded=true&wait=true&fields=status,stdout', {
      language_id: 50,
      source_code: math,
      stdin: b64('9'),
      compiler_options: '-Wl,--no-as-needed -lm',
    });
    assert.equal(Buffer.from(linked.body.stdout, 'base64').toString(), '3.0\n');
  });
});
