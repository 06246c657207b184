/**
 * A test Judge0 CE server following the documented API (v1.13): /config_info, /languages,
 * POST/GET /submissions/batch, GET /submissions/:token, X-Auth-Token auth, base64, a batch size
 * limit, a global queue limit (503 "queue is full") and In Queue -> Processing -> final over
 * successive polls. Programs really run: each submission goes through a real Executor (the sandbox).
 * Fault switches let tests break it on purpose; every request is counted.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Executor, RunOutcome } from '../../worker/src/executors/port';
import type { Language } from '../../worker/src/languages';

const LANGUAGES: Array<{ id: number; name: string; ours?: Language }> = [
  { id: 48, name: 'C (GCC 7.4.0)' },
  { id: 50, name: 'C (GCC 9.2.0)', ours: 'c' },
  { id: 54, name: 'C++ (GCC 9.2.0)', ours: 'cpp' },
  { id: 62, name: 'Java (OpenJDK 13.0.1)', ours: 'java' },
  { id: 63, name: 'JavaScript (Node.js 12.14.0)', ours: 'javascript' },
  { id: 70, name: 'Python (2.7.17)' },
  { id: 71, name: 'Python (3.8.1)', ours: 'python' },
];

const STATUS_TEXT: Record<number, string> = {
  1: 'In Queue', 2: 'Processing', 3: 'Accepted', 4: 'Wrong Answer', 5: 'Time Limit Exceeded', 6: 'Compilation Error',
  7: 'Runtime Error (SIGSEGV)', 8: 'Runtime Error (SIGXFSZ)', 9: 'Runtime Error (SIGFPE)', 10: 'Runtime Error (SIGABRT)',
  11: 'Runtime Error (NZEC)', 12: 'Runtime Error (Other)', 13: 'Internal Error', 14: 'Exec Format Error',
};

interface Stored {
  token: string;
  polls: number;
  final?: Record<string, unknown>;
  forcedStatus?: number;
}

export interface FakeJudge0 {
  baseUrl: string;
  /** Requests seen, as "METHOD /path". */
  requests: string[];
  faults: {
    /** Answer the next N requests with this HTTP status. */
    failNext: { count: number; status: number };
    /** The next N submissions end with this Judge0 status instead of running (e.g. 13). */
    forceStatus: { count: number; status: number };
    /** Hang (never answer) every request while true. */
    hang: boolean;
    /** Never leave In Queue while true. */
    stuck: boolean;
  };
  /** Submissions created and not yet final (the global queue). */
  queued(): number;
  /** Stops listening (connections refused) but keeps the submissions, as a restarting Judge0 would. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface FakeJudge0Options {
  executor: Executor;
  authToken?: string;
  maxBatchSize?: number;
  maxQueueSize?: number;
  enableCompilerOptions?: boolean;
}

export async function startFakeJudge0(opts: FakeJudge0Options): Promise<FakeJudge0> {
  const store = new Map<string, Stored>();
  const requests: string[] = [];
  const faults: FakeJudge0['faults'] = { failNext: { count: 0, status: 500 }, forceStatus: { count: 0, status: 13 }, hang: false, stuck: false };
  const maxBatch = opts.maxBatchSize ?? 20;
  const maxQueue = opts.maxQueueSize ?? 100;
  const queued = () => [...store.values()].filter((s) => !s.final).length;
  const hanging = new Set<http.ServerResponse>();

  const run = async (stored: Stored, body: Record<string, string | number>) => {
    if (faults.forceStatus.count > 0) {
      faults.forceStatus.count--;
      stored.forcedStatus = faults.forceStatus.status;
      stored.final = judge0Fields(stored.token, stored.forcedStatus, null, '');
      return;
    }
    const language = LANGUAGES.find((l) => l.id === Number(body.language_id))?.ours;
    const decode = (v: unknown) => (typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : '');
    const report = await opts.executor.execute({
      id: stored.token,
      language: language!,
      source: decode(body.source_code),
      cases: [{ index: 1, input: decode(body.stdin) }],
      limits: { timeLimitMs: Number(body.cpu_time_limit ?? 5) * 1000, wallLimitMs: Number(body.wall_time_limit ?? 10) * 1000, memoryLimitMb: Number(body.memory_limit ?? 128000) / 1024, outputLimitBytes: 1 << 20 },
    });
    if (!report.compile.ok) stored.final = judge0Fields(stored.token, 6, null, report.compile.output);
    else stored.final = judge0Fields(stored.token, statusOf(report.runs[0].outcome), report.runs[0].outcome, '');
  };

  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://judge0');
      requests.push(`${req.method} ${url.pathname}`);
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (faults.hang) {
        hanging.add(res);
        return;
      }
      if (faults.failNext.count > 0) {
        faults.failNext.count--;
        return send(faults.failNext.status, { error: 'injected failure' });
      }
      if (opts.authToken && req.headers['x-auth-token'] !== opts.authToken) return send(401, { error: 'Authentication failed' });

      if (req.method === 'GET' && url.pathname === '/config_info') {
        return send(200, { enable_batched_submissions: true, max_submission_batch_size: maxBatch, max_queue_size: maxQueue, enable_compiler_options: opts.enableCompilerOptions ?? true, enable_wait_result: false, max_cpu_time_limit: 15, max_wall_time_limit: 20, max_memory_limit: 512000 });
      }
      if (req.method === 'GET' && url.pathname === '/languages') return send(200, LANGUAGES.map(({ id, name }) => ({ id, name })));
      // judge0 v1.13.1 app/controllers/health_controller.rb: one entry per Resque queue, 200 when all COUNT workers run.
      if (req.method === 'GET' && url.pathname === '/workers') return send(200, [{ queue: 'default', total: 1, available: 1, idle: 1, working: 0, paused: 0, failed: 0 }]);
      if (req.method === 'POST' && url.pathname === '/submissions/batch') {
        if (url.searchParams.get('base64_encoded') !== 'true') return send(400, { error: 'this test server expects base64_encoded=true' });
        const submissions = (JSON.parse(raw || '{}').submissions ?? []) as Array<Record<string, string | number>>;
        if (submissions.length > maxBatch) return send(400, { error: `number of submissions in a batch should be less than or equal to ${maxBatch}` });
        if (queued() + submissions.length > maxQueue) return send(503, { error: 'queue is full' });
        const answer = submissions.map((body) => {
          if (!LANGUAGES.some((l) => l.id === Number(body.language_id))) return { language_id: ['language with id ' + body.language_id + ' doesn\'t exist'] };
          const stored: Stored = { token: randomUUID(), polls: 0 };
          store.set(stored.token, stored);
          void run(stored, body);
          return { token: stored.token };
        });
        return send(answer.some((a) => 'token' in a) ? 201 : 422, answer);
      }
      if (req.method === 'GET' && url.pathname === '/submissions/batch') {
        const tokens = (url.searchParams.get('tokens') ?? '').split(',').filter(Boolean);
        if (tokens.length > maxBatch) return send(400, { error: `number of tokens should be less than or equal to ${maxBatch}` });
        return send(200, { submissions: tokens.map((t) => view(store.get(t), t, faults.stuck)) });
      }
      if (req.method === 'POST' && url.pathname === '/submissions') {
        // One submission; with wait=true the answer is the final result (the naive design the bench compares against).
        if (url.searchParams.get('base64_encoded') !== 'true') return send(400, { error: 'this test server expects base64_encoded=true' });
        const body = JSON.parse(raw || '{}') as Record<string, string | number>;
        if (!LANGUAGES.some((l) => l.id === Number(body.language_id))) return send(422, { language_id: ["language with id " + body.language_id + " doesn't exist"] });
        if (queued() + 1 > maxQueue) return send(503, { error: 'queue is full' });
        const stored: Stored = { token: randomUUID(), polls: 0 };
        store.set(stored.token, stored);
        const running = run(stored, body);
        if (url.searchParams.get('wait') !== 'true') return send(201, { token: stored.token });
        void running.then(() => send(201, stored.final));
        return;
      }
      const single = /^\/submissions\/([\w-]+)$/.exec(url.pathname);
      if (req.method === 'GET' && single) {
        const stored = store.get(single[1]);
        return stored ? send(200, view(stored, single[1], faults.stuck)) : send(404, { error: 'Not Found' });
      }
      send(404, { error: 'Not Found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const stop = () => {
    for (const res of hanging) res.destroy();
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    faults,
    queued,
    stop,
    start: () => new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve())),
    close: stop,
  };
}

/** Status progression: first poll In Queue, second Processing, then final once the run is done. */
function view(stored: Stored | undefined, token: string, stuck: boolean): Record<string, unknown> | null {
  if (!stored) return null;
  stored.polls++;
  if (stuck || stored.polls === 1 || !stored.final) return judge0Fields(token, 1, null, '');
  if (stored.polls === 2) return judge0Fields(token, 2, null, '');
  return stored.final;
}

function statusOf(o: RunOutcome): number {
  switch (o.status) {
    case 'exited':
      return o.exitCode === 0 ? 3 : 11;
    case 'time-limit':
      return 5;
    case 'output-limit':
      return 8;
    case 'internal-error':
      return 13;
    case 'memory-limit':
      // isolate kills with SIGKILL; Judge0 reports it as a runtime error, never as MLE.
      return o.exitCode !== null && o.exitCode !== 137 && o.exitCode < 128 ? 11 : 12;
    case 'signaled':
      return ({ SIGSEGV: 7, SIGXFSZ: 8, SIGFPE: 9, SIGABRT: 10, SIGIOT: 10 } as Record<string, number>)[o.signal ?? ''] ?? 12;
  }
}

function judge0Fields(token: string, status: number, o: RunOutcome | null, compileOutput: string): Record<string, unknown> {
  const enc = (s: string) => (s ? Buffer.from(s).toString('base64') : null);
  const signalNumber: Record<string, number> = { SIGKILL: 9, SIGSEGV: 11, SIGFPE: 8, SIGABRT: 6, SIGIOT: 6, SIGXFSZ: 25 };
  const killedForMemory = o?.status === 'memory-limit' && status === 12;
  return {
    token,
    status: { id: status, description: STATUS_TEXT[status] },
    stdout: enc(o?.stdout ?? ''),
    stderr: enc(o?.stderr ?? ''),
    compile_output: enc(compileOutput),
    message: status === 13 ? enc('No such file or directory @ rb_sysopen - /box/script.py') : null,
    time: o ? (o.timeMs / 1000).toFixed(3) : null,
    memory: o ? Math.round(o.memoryMb * 1024) : null,
    exit_code: o && o.status === 'exited' ? o.exitCode : killedForMemory ? 137 : null,
    exit_signal: killedForMemory ? 9 : o?.signal ? (signalNumber[o.signal] ?? null) : null,
  };
}
