/**
 * Writes docs/contracts/examples/ from a real run: starts private services (ActiveMQ with the
 * project's broker XML, MariaDB, s3rver) and the worker with the local sandbox, grades sample
 * submissions and invalid requests, and saves what was really sent and received: the requests,
 * the messages on grading-results and the live progress events of one submission; and runs with
 * custom input (their requests and the `run` events that answered them).
 *   npx tsx scripts/contract-examples.ts      (tests/unit/contracts.test.ts validates the output)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InboundMessage } from '../core/src/queue/stomp';
import { connectTo } from '../tests/helpers/stompProbe';
import { prepareRequest, seedProblems, startWorker, SubmissionSpec } from '../tests/helpers/workerHarness';
import { LocalActiveMq } from './services/activemq';
import { LocalMariaDb } from './services/mariadb';
import { LocalS3 } from './services/s3';
import { ensureLocalTls } from './services/tls';

const ROOT = path.join(__dirname, '..');
const OUT = path.join(ROOT, 'docs/contracts/examples');
const solution = (file: string) => fs.readFileSync(path.join(ROOT, 'examples/solutions', file), 'utf8');

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'contract-examples-'));
  const tls = ensureLocalTls(path.join(dir, 'tls'));
  const [broker, db, s3] = await Promise.all([
    LocalActiveMq.create({ dir: path.join(dir, 'activemq'), tls }),
    LocalMariaDb.create({ dir: path.join(dir, 'mariadb'), tls }),
    LocalS3.create({ dir: path.join(dir, 's3') }),
  ]);
  await db.migrate();
  const worker = await startWorker({ broker, db, s3 });
  const conn = await connectTo(broker);
  try {
    await seedProblems(s3);
    const results: InboundMessage[] = [];
    const progress: InboundMessage[] = [];
    conn.subscribe('/queue/grading-results', { ack: 'auto' }, (m) => results.push(m));
    conn.subscribe('/topic/grading-progress', { ack: 'auto' }, (m) => progress.push(m));
    const resultsOf = async (requestId: string, count = 1) => {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const found = results.filter((m) => m.headers['correlation-id'] === requestId);
        if (found.length >= count) return found.map((m) => JSON.parse(m.body));
        if (Date.now() > deadline) throw new Error(`no result for ${requestId}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const submit = async (spec: SubmissionSpec, body?: (request: Record<string, unknown>) => string) => {
      const request = await prepareRequest(s3, spec);
      await conn.send('/queue/grading-requests', body ? body(request) : JSON.stringify(request), { persistent: 'true' });
      return request;
    };
    const write = (file: string, data: unknown) => {
      fs.writeFileSync(path.join(OUT, file), `${JSON.stringify(data, null, 2)}\n`);
      console.log(`wrote docs/contracts/examples/${file}`);
    };

    const ac = await submit({ requestId: 'req_example_ac', problemId: 'sum', language: 'python', source: solution('sum/accepted.py') });
    const partial = await submit({
      requestId: 'req_example_wa',
      problemId: 'sum',
      language: 'python',
      source: 'a, b = map(int, input().split())\nprint(a + b if abs(a) < 10**9 else 0)\n',
    });
    const ce = await submit({ requestId: 'req_example_ce', problemId: 'sum', language: 'c', source: solution('sum/compile-error.c') });
    const unknown = await submit({
      requestId: 'req_example_no_problem',
      problemId: 'no-such-problem',
      language: 'python',
      source: 'print(1)\n',
    });
    const invalid = await submit({ requestId: 'req_example_invalid', problemId: 'sum', language: 'python', source: 'print(1)\n' }, (r) =>
      JSON.stringify({ ...r, language: 'cobol', timeLimit: 1.5 }),
    );
    const [acResult] = await resultsOf(ac.requestId);
    const [partialResult] = await resultsOf(partial.requestId);
    const [ceResult] = await resultsOf(ce.requestId);
    const [unknownResult] = await resultsOf(unknown.requestId);
    const [invalidResult] = await resultsOf(invalid.requestId);
    // The same requestId again with other code at the same source key.
    await submit({ requestId: ac.requestId, problemId: 'sum', language: 'python', source: solution('sum/wrong-answer.py') });
    const [, reusedResult] = await resultsOf(ac.requestId, 2);

    // Runs with custom input: sent as the gateway sends them (non-persistent, with an expiry); answered on the progress topic.
    const run = async (runId: string, fields: Record<string, unknown>) => {
      const request = {
        mode: 'run',
        runId,
        userId: 'user_001',
        problemId: 'sum',
        language: 'python',
        source: 'print(1)\n',
        stdin: '',
        testCases: `s3://${s3.bucket}/problems/sum/testcases/`,
        timeLimit: 2000,
        memoryLimit: 256,
        timestamp: new Date().toISOString(),
        ...fields,
      };
      await conn.send('/queue/grading-requests', JSON.stringify(request), { expires: String(Date.now() + 120_000) });
      const deadline = Date.now() + 120_000;
      for (;;) {
        const found = progress.find((m) => m.headers['correlation-id'] === runId);
        if (found) return { request, event: JSON.parse(found.body) };
        if (Date.now() > deadline) throw new Error(`no run event for ${runId}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const runOk = await run('run_example_ok', { source: 'a, b = map(int, input().split())\nprint(a + b)\n', stdin: '40 2\n' });
    const runRe = await run('run_example_re', {
      source: 'import sys\nprint("reading")\nsys.stderr.write("no input given\\n")\nsys.exit(3)\n',
    });
    const runCe = await run('run_example_ce', { language: 'c', source: solution('sum/compile-error.c') });

    fs.mkdirSync(OUT, { recursive: true });
    for (const file of fs.readdirSync(OUT)) fs.rmSync(path.join(OUT, file));
    write('request-python.json', ac);
    write('result-completed-ac.json', acResult);
    write('result-completed-wa-partial-score.json', partialResult);
    write('result-completed-ce.json', ceResult);
    write('result-failed-invalid-problem-or-source.json', unknownResult);
    write('result-failed-schema-validation.json', invalidResult);
    write('result-failed-request-id-reused.json', reusedResult);
    write('run-request-python.json', runOk.request);
    write('run-result-ok.json', runOk.event.result);
    write('run-result-re.json', runRe.event.result);
    write('run-result-ce.json', runCe.event.result);
    write('progress-run.json', [runOk.event]);
    write(
      'progress-ac.json',
      progress.filter((m) => m.headers['correlation-id'] === ac.requestId).map((m) => JSON.parse(m.body)),
    );
  } finally {
    await conn.close().catch(() => undefined);
    await worker.stop('SIGTERM');
    await Promise.all([broker.stop(), db.stop(), s3.stop()]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`contract examples failed: ${(error as Error).stack}`);
    process.exit(1);
  },
);
