/**
 * The whole grading system on one machine (`npm run local`, via scripts/local.sh):
 *   ActiveMQ (the Messaging component's broker XML), MariaDB and s3rver on loopback, state under
 *   .local/; the sample problems seeded into the bucket; the worker (local sandbox) and the
 *   gateway as child processes; then sample submissions graded through the HTTP API. The
 *   accepted-solutions process commits each accepted sample to a local stand-in of GitHub's
 *   contents API (./localSolutions.ts); --smoke also fails when one is not committed.
 *
 *   npm run local                      keep running until Ctrl-C (prints the page's URL)
 *   npm run local -- --smoke           exit after the samples: 0 if every verdict is as expected
 *   options: --port N (gateway, default 3000; 0 = any free port), --state-dir DIR (default .local),
 *            --fresh (delete the state first), --problems DIR (also seed the problems in DIR, one folder
 *            each, as examples/problems is laid out; repeatable). LOCAL_SMOKE=1 is the same as --smoke.
 */
import { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { LocalActiveMq } from './services/activemq';
import { LocalMariaDb } from './services/mariadb';
import { noticeDeaths } from './services/deathWatch';
import { freePort, pollUntilOk, spawnService, stopProcess, tail } from './services/process';
import { LocalS3 } from './services/s3';
import { ensureLocalTls } from './services/tls';
import { localIssuer } from '../web/src/auth/localIssuer';
import { LOCAL_REPOSITORY, prepareLocalSolutions } from './localSolutions';
import { readEventStream } from '../web/src/sseClient';
import { extensionOf, LANGUAGE_IDS } from '../core/src/languages';
import { isTestSetFile } from '../worker/src/problems/testSet';

const ROOT = path.resolve(__dirname, '..');

// The SDK's notice that releases after January 2027 need Node 22 is for maintainers (see
// package.json engines), not for someone starting the local stack; children inherit this.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
export const PROBLEMS_DIR = path.join(ROOT, 'examples', 'problems');
export const SOLUTIONS_DIR = path.join(ROOT, 'examples', 'solutions');

export interface LocalServices {
  activeMq: LocalActiveMq;
  mariaDb: LocalMariaDb;
  s3: LocalS3;
  /** Connection settings for the worker and the gateway (WORKER_ENV names). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Starts the three services under `stateDir` (data survives between runs). */
export async function startServices(stateDir: string, say: (line: string) => void = () => undefined): Promise<LocalServices> {
  const started: Array<{ stop(): Promise<void> }> = [];
  const stop = async () => {
    for (const service of started.reverse()) await service.stop().catch(() => undefined);
  };
  try {
    // One CA for the state dir: broker and database speak TLS only, as Amazon MQ and RDS do.
    const tls = ensureLocalTls(path.join(stateDir, 'tls'));
    say(`local CA (MQ_TLS_CA, DB_TLS_CA): ${tls.caFile}`);
    say('starting ActiveMQ (broker XML from components/brokerXml.ts)...');
    const activeMq = await LocalActiveMq.create({ dir: path.join(stateDir, 'activemq'), tls });
    started.push(activeMq);
    say(`  ActiveMQ  stomp+ssl://127.0.0.1:${activeMq.stompPort}`);
    say('starting MariaDB (require_secure_transport=ON)...');
    const mariaDb = await LocalMariaDb.create({ dir: path.join(stateDir, 'mariadb'), tls });
    started.push(mariaDb);
    say(`  MariaDB   127.0.0.1:${mariaDb.port} database ${mariaDb.database} (TLS only)`);
    // What `npm run db:migrate` does on deploy: the worker and the gateway only check the schema version.
    const steps = await mariaDb.migrate();
    say(steps.length ? `  migrated: ${steps.map((s) => `step ${s.version} (${s.name})`).join(', ')}` : '  schema up to date');
    say('starting the S3 API (s3rver)...');
    const s3 = await LocalS3.create({ dir: path.join(stateDir, 's3') });
    started.push(s3);
    say(`  S3 API    ${s3.endpoint} bucket ${s3.bucket}`);
    return { activeMq, mariaDb, s3, env: { ENVIRONMENT: 'local', ...activeMq.env(), ...mariaDb.env(), ...s3.env() }, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export function s3ClientFor(env: Record<string, string>): S3Client {
  return new S3Client({
    region: env.AWS_REGION,
    endpoint: env.S3_ENDPOINT,
    forcePathStyle: true,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/**
 * Uploads examples/problems/<id>/ to problems/<id>/ in the bucket: description.md at the top,
 * test cases ({n}.in, {n}.out) and manifest.json under testcases/. Returns the problem ids.
 */
export async function seedProblems(env: Record<string, string>, problemsDir = PROBLEMS_DIR): Promise<string[]> {
  if (!fs.existsSync(problemsDir)) throw new Error(`no sample problems at ${problemsDir}`);
  const s3 = s3ClientFor(env);
  const ids: string[] = [];
  try {
    for (const id of fs.readdirSync(problemsDir).sort()) {
      const dir = path.join(problemsDir, id);
      if (!fs.statSync(dir).isDirectory()) continue;
      const uploads = problemObjects(dir).map(({ key, file }) =>
        s3.send(new PutObjectCommand({ Bucket: env.GRADING_BUCKET, Key: `problems/${id}/${key}`, Body: fs.readFileSync(file) })),
      );
      await Promise.all(uploads);
      ids.push(id);
    }
  } finally {
    s3.destroy();
  }
  return ids;
}

/** Bucket keys (relative to problems/<id>/) for a problem folder, in either layout: flat, or with a testcases/ folder. */
export function problemObjects(dir: string): Array<{ key: string; file: string }> {
  const objects: Array<{ key: string; file: string }> = [];
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name);
    if (name === 'testcases' && fs.statSync(file).isDirectory()) {
      for (const inner of fs.readdirSync(file)) {
        if (fs.statSync(path.join(file, inner)).isFile()) objects.push({ key: `testcases/${inner}`, file: path.join(file, inner) });
      }
    } else if (fs.statSync(file).isFile()) {
      // The worker's own rule for test-set files (cases, manifest, checker/interactor sources and headers).
      if (isTestSetFile(name)) objects.push({ key: `testcases/${name}`, file });
      else objects.push({ key: name, file });
    }
  }
  return objects.sort((a, b) => a.key.localeCompare(b.key, undefined, { numeric: true }));
}

export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  stop(): Promise<void>;
}

/** Runs a TypeScript entry point in its own Node process (tsx loader), output appended to `logFile`. */
export function startTsProcess(name: string, entry: string, env: Record<string, string>, logFile: string): ManagedProcess {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const child = spawnService(process.execPath, ['--require', require.resolve('tsx/cjs'), path.join(ROOT, entry)], logFile, {
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
  return { name, child, logFile, stop: () => stopProcess(child, 20_000) };
}

/** Polls `url` until it answers 200, failing early (with the log's tail) if the process exits. */
export async function waitForHealthy(proc: ManagedProcess, url: string, timeoutMs = 90_000): Promise<void> {
  const problem = await pollUntilOk(url, proc.child, timeoutMs, 300);
  if (problem) throw new Error(`${proc.name} ${problem}:\n${tail(proc.logFile)}`);
}

export async function startWorker(services: LocalServices, logDir: string): Promise<ManagedProcess> {
  const healthPort = await freePort();
  const worker = startTsProcess(
    'worker',
    'worker/src/main.ts',
    {
      ...services.env,
      EXECUTOR: 'sandbox',
      HEALTH_PORT: String(healthPort),
      WORKER_CONCURRENCY: process.env.WORKER_CONCURRENCY ?? '2',
      GRADING_LOG_LEVEL: process.env.GRADING_LOG_LEVEL ?? 'info',
    },
    path.join(logDir, 'worker.log'),
  );
  try {
    await waitForHealthy(worker, `http://127.0.0.1:${healthPort}/health/ready`);
  } catch (error) {
    await worker.stop();
    throw error;
  }
  return worker;
}

export async function startGateway(
  services: LocalServices,
  port: number,
  logDir: string,
  extraEnv: Record<string, string> = {},
): Promise<ManagedProcess & { url: string }> {
  const listenPort = port === 0 ? await freePort() : port;
  const gateway = startTsProcess(
    'gateway',
    'web/src/main.ts',
    {
      ...services.env,
      PORT: String(listenPort),
      HOST: '127.0.0.1',
      GRADING_LOG_LEVEL: process.env.GRADING_LOG_LEVEL ?? 'info',
      ...extraEnv,
    },
    path.join(logDir, 'gateway.log'),
  );
  const url = `http://127.0.0.1:${listenPort}`;
  try {
    await waitForHealthy(gateway, `${url}/health/ready`);
  } catch (error) {
    await gateway.stop();
    throw error;
  }
  return { ...gateway, url };
}

export interface Sample {
  problemId: string;
  language: string;
  file: string;
  expected: string;
}

export interface SampleOutcome extends Sample {
  requestId?: string;
  verdict?: string;
  cases?: string;
  time?: number;
  memory?: number;
  error?: string;
}

const VERDICT_BY_NAME: Record<string, string> = {
  accepted: 'AC',
  'wrong-answer': 'WA',
  'time-limit': 'TLE',
  'memory-limit': 'MLE',
  'runtime-error': 'RE',
  'compile-error': 'CE',
  'output-limit': 'OLE',
};

/**
 * examples/solutions/<problemId>/<expected>.<ext>: the file name says which verdict it must get
 * (accepted, wrong-answer, time-limit, compile-error, ...), the extension its language.
 */
export function loadSamples(solutionsDir = SOLUTIONS_DIR): Sample[] {
  const samples: Sample[] = [];
  for (const problemId of fs.readdirSync(solutionsDir).sort()) {
    const dir = path.join(solutionsDir, problemId);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const name of fs.readdirSync(dir).sort()) {
      const ext = path.extname(name).slice(1);
      const language = LANGUAGE_IDS.find((id) => extensionOf(id) === ext);
      const expected = VERDICT_BY_NAME[path.basename(name, path.extname(name)).toLowerCase()];
      if (language && expected) samples.push({ problemId, language, file: path.join(dir, name), expected });
    }
  }
  return samples;
}

/** Submits every sample through the HTTP API (as user sample_N, with a token from `token`) and follows its event stream to the final verdict. */
export async function gradeSamples(
  gatewayUrl: string,
  samples: Sample[],
  token: (userId: string) => Promise<string>,
  timeoutMs = 120_000,
): Promise<SampleOutcome[]> {
  return Promise.all(
    samples.map(async (sample, index): Promise<SampleOutcome> => {
      try {
        const auth = { authorization: `Bearer ${await token(`sample_${index + 1}`)}` };
        const response = await fetch(`${gatewayUrl}/api/submissions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...auth },
          body: JSON.stringify({
            problemId: sample.problemId,
            language: sample.language,
            sourceCode: fs.readFileSync(sample.file, 'utf8'),
          }),
        });
        const body = await response.json();
        if (response.status !== 202) return { ...sample, error: `POST /api/submissions answered ${response.status}: ${body.message}` };
        const signal = AbortSignal.timeout(timeoutMs);
        let seen = 0;
        for await (const event of readEventStream(`${gatewayUrl}/api/submissions/${body.requestId}/events`, { signal, headers: auth })) {
          if (event.event === 'case') seen++;
          if (event.event !== 'final') continue;
          const doc = JSON.parse(event.data);
          const cases = doc.result?.testResults ?? [];
          return {
            ...sample,
            requestId: body.requestId,
            verdict: doc.status === 'failed' ? 'failed' : doc.result?.verdict,
            cases: `${cases.filter((c: { status: string }) => c.status === 'AC').length}/${cases.length} passed, ${seen} live`,
            time: doc.result?.executionTime,
            memory: doc.result?.memoryUsage,
          };
        }
        return { ...sample, requestId: body.requestId, error: 'the event stream ended without a final event' };
      } catch (error) {
        return {
          ...sample,
          error: (error as Error).name === 'TimeoutError' ? `no verdict within ${timeoutMs} ms` : (error as Error).message,
        };
      }
    }),
  );
}

export function formatOutcomes(outcomes: SampleOutcome[]): string {
  const rows = outcomes.map((o) => [
    o.verdict === o.expected ? 'ok ' : 'BAD',
    o.problemId,
    o.language,
    path.basename(o.file),
    `expected ${o.expected}`,
    o.error ? `error: ${o.error}` : `got ${o.verdict}  (${o.cases}; ${o.time ?? '-'} ms, ${o.memory ?? '-'} MB)`,
  ]);
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i].length))) ?? [];
  return rows.map((r) => '  ' + r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n');
}

interface Args {
  smoke: boolean;
  port: number;
  stateDir: string;
  fresh: boolean;
  /** Extra problem folders to seed besides examples/problems. */
  problems: string[];
}

export function parseArgs(argv: string[], env: Record<string, string | undefined> = process.env): Args {
  const args: Args = {
    smoke: ['1', 'true', 'yes'].includes((env.LOCAL_SMOKE ?? '').toLowerCase()),
    port: -1,
    stateDir: path.join(ROOT, '.local'),
    fresh: false,
    problems: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--smoke') args.smoke = true;
    else if (arg === '--fresh') args.fresh = true;
    else if (arg === '--port') {
      const text = value();
      args.port = Number(text);
      if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) throw new Error(`--port must be 0..65535 (got ${text})`);
    } else if (arg === '--state-dir') args.stateDir = path.resolve(value());
    else if (arg === '--problems') args.problems.push(path.resolve(value()));
    else throw new Error(`unknown option ${arg} (expected --smoke, --port N, --state-dir DIR, --fresh, --problems DIR)`);
  }
  // Interactive runs get a predictable URL; smoke runs must not collide with anything.
  if (args.port === -1) args.port = args.smoke ? 0 : Number(env.PORT ?? 3000);
  return args;
}

/** One local stack per state dir at a time: a second would fight over the data files. */
export function takeLock(stateDir: string): () => void {
  const lock = path.join(stateDir, 'local.pid');
  if (fs.existsSync(lock)) {
    const pid = Number(fs.readFileSync(lock, 'utf8'));
    if (pid && pid !== process.pid && isAlive(pid))
      throw new Error(`another local stack (pid ${pid}) is using ${stateDir}; stop it first (Ctrl-C in its terminal)`);
  }
  fs.writeFileSync(lock, String(process.pid));
  return () => fs.rmSync(lock, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const say = (line: string) => console.log(line);
  if (args.fresh) fs.rmSync(args.stateDir, { recursive: true, force: true });
  fs.mkdirSync(args.stateDir, { recursive: true });
  const releaseLock = takeLock(args.stateDir);
  const logDir = path.join(args.stateDir, 'logs');

  const running: Array<{ stop(): Promise<void> }> = [];
  let stopping: Promise<void> | undefined;
  const stopAll = () =>
    (stopping ??= (async () => {
      say('stopping...');
      for (const part of running.reverse()) await part.stop().catch((error) => say(`  (while stopping: ${(error as Error).message})`));
      releaseLock();
      say('stopped.');
    })());
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    void stopAll().then(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    say(`state in ${args.stateDir} (logs in ${logDir})`);
    const services = await startServices(args.stateDir, say);
    running.push(services);
    const problems = await seedProblems(services.env);
    for (const dir of args.problems) problems.push(...(await seedProblems(services.env, dir)));
    say(`seeded ${problems.length} problems: ${problems.join(', ')}`);
    say('starting the worker (local sandbox)...');
    const worker = await startWorker(services, logDir);
    running.push(worker);
    const solutions = await prepareLocalSolutions(args.stateDir);
    running.push(solutions);
    say(`GitHub contents API (local stand-in): ${solutions.github.baseUrl}, repository ${LOCAL_REPOSITORY}`);
    say('starting the gateway (signing in through a local issuer: the page has a login form)...');
    const issuer = localIssuer();
    const gateway = await startGateway(services, args.port, logDir, { ...issuer.env, ...solutions.env });
    running.push(gateway);
    say('starting the accepted-solutions process (fingerprints, commits to GitHub)...');
    const solutionsProcess = startTsProcess(
      'solutions',
      'worker/src/solutions/main.ts',
      { ...services.env, ...solutions.env },
      path.join(logDir, 'solutions.log'),
    );
    running.push(solutionsProcess);
    await waitForHealthy(solutionsProcess, `http://127.0.0.1:${solutions.env.SOLUTIONS_HEALTH_PORT}/health/ready`);
    const unwatch = noticeDeaths(
      [worker, gateway, solutionsProcess, { name: 'ActiveMQ', logFile: services.activeMq.logFile, alive: () => services.activeMq.running }],
      say,
      () => stopping !== undefined,
    );
    running.push({ stop: async () => unwatch() });
    say(`\n  Grading Stack is running: open ${gateway.url}\n`);

    const samples = loadSamples();
    await solutions.linkUsers(
      services.env,
      samples.map((_, index) => `sample_${index + 1}`),
    );
    say(`grading ${samples.length} sample submissions through ${gateway.url}/api/submissions ...`);
    const outcomes = await gradeSamples(gateway.url, samples, issuer.token);
    say(formatOutcomes(outcomes));
    const failed: unknown[] = outcomes.filter((o) => o.verdict !== o.expected);
    const accepted = outcomes.filter((o) => o.verdict === 'AC' && o.requestId).map((o) => o.requestId!);
    const commits = await solutions.commits(services.env, accepted);
    for (const c of commits)
      say(`  ${c.requestId}  ${c.status === 'committed' ? `committed ${c.path}  ${c.url}` : `not committed (${c.status ?? 'no record'})`}`);
    const uncommitted = commits.filter((c) => c.status !== 'committed');
    say(
      uncommitted.length
        ? `${uncommitted.length} accepted sample(s) not committed (see ${logDir}/solutions.log)`
        : `every accepted sample committed to ${LOCAL_REPOSITORY}`,
    );
    failed.push(...uncommitted);
    say(
      failed.length
        ? `\n${failed.length} sample(s) did not get the expected verdict (see ${logDir}/worker.log)`
        : '\nevery sample got its expected verdict',
    );

    if (args.smoke || interrupted) {
      await stopAll();
      return failed.length ? 1 : 0;
    }
    say(`\nopen ${gateway.url} in a browser; Ctrl-C stops everything.`);
    await new Promise(() => undefined); // until a signal
    return 0;
  } catch (error) {
    if (interrupted) return 130;
    console.error(`\nlocal stack failed: ${(error as Error).message}`);
    await stopAll();
    return 1;
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(`local stack: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
