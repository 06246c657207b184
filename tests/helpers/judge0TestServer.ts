/**
 * A test server that answers like Judge0 CE 1.13.1 and really runs the programs (in the local
 * sandbox, see judge0Box.ts). Every behaviour cites the judge0/judge0 v1.13.1 file it follows:
 * - settings and their defaults: app/helpers/config.rb:5-43, GET /config_info: config.rb:45-86;
 * - GET /languages: id and name of non-archived languages ordered by name (languages_controller.rb:3,
 *   app/models/language.rb:16); GET /languages/:id: every column (language_serializer.rb:2);
 * - auth: X-Auth-Token (header or parameter) else 401 with an empty body (sessions_controller.rb:23-25);
 * - the before_action chain of submissions_controller.rb:2-8, in that order: maintenance 503 (create
 *   only), `wait=true` 400 when waiting is off, 400 on /batch when batching is off, 503 "queue is full"
 *   when queued jobs + new ones exceed MAX_QUEUE_SIZE, 400 on unknown `fields`;
 * - validation and per-item 422 bodies {field: [messages]}: app/models/submission.rb:46-76 with the
 *   defaults of submission.rb:233-259, Rails' numericality/presence/length messages;
 * - POST /submissions/batch: 201 with a mixed array when any item is valid (submissions_controller.rb:124-155);
 * - base64: Ruby's Base64.encode64 (a line break every 60 characters and at the end) and the lenient
 *   Base64.decode64 (app/services/base64_service.rb);
 * - `fields`, default fields and value types: app/services/fields/submission.rb, submission_serializer.rb
 *   (time and wall_time are decimals, which Rails renders as strings);
 * - Resque workers take queued jobs one at a time: In Queue (1) -> Processing (2) -> final (isolate_job.rb:23).
 * Fault switches and a request log let tests break it on purpose.
 */
import { randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { detectCgroupVersion, prepareCgroups } from '../../worker/src/executors/sandbox/cgroup';
import { ensureSeccompFilter } from '../../worker/src/executors/sandbox/seccomp';
import { BoxLanguage, BoxResult, BoxSubmission, Judge0Box } from './judge0Box';

/** Judge0's settings (judge0.conf / app/helpers/config.rb), with its defaults. */
export interface Judge0Settings {
  maintenanceMode: boolean;
  maintenanceMessage: string | null;
  enableWaitResult: boolean;
  enableCompilerOptions: boolean;
  allowedLanguagesForCompilerOptions: string[];
  enableCommandLineArguments: boolean;
  enableAdditionalFiles: boolean;
  enableBatchedSubmissions: boolean;
  maxSubmissionBatchSize: number;
  maxQueueSize: number;
  cpuTimeLimit: number;
  maxCpuTimeLimit: number;
  cpuExtraTime: number;
  maxCpuExtraTime: number;
  wallTimeLimit: number;
  maxWallTimeLimit: number;
  memoryLimit: number;
  maxMemoryLimit: number;
  stackLimit: number;
  maxStackLimit: number;
  maxProcessesAndOrThreads: number;
  maxMaxProcessesAndOrThreads: number;
  maxFileSize: number;
  maxMaxFileSize: number;
  numberOfRuns: number;
  maxNumberOfRuns: number;
  /** KB: the largest file Judge0 unzips from additional_files (config.rb:37, isolate_job.rb:98). */
  maxExtractSize: number;
}

export const JUDGE0_DEFAULTS: Judge0Settings = {
  maintenanceMode: false,
  maintenanceMessage: null,
  enableWaitResult: true,
  enableCompilerOptions: true,
  allowedLanguagesForCompilerOptions: [],
  enableCommandLineArguments: true,
  enableAdditionalFiles: true,
  enableBatchedSubmissions: true,
  maxSubmissionBatchSize: 20,
  maxQueueSize: 100,
  cpuTimeLimit: 5,
  maxCpuTimeLimit: 15,
  cpuExtraTime: 1,
  maxCpuExtraTime: 5,
  wallTimeLimit: 10,
  maxWallTimeLimit: 20,
  memoryLimit: 128000,
  maxMemoryLimit: 512000,
  stackLimit: 64000,
  maxStackLimit: 128000,
  maxProcessesAndOrThreads: 60,
  maxMaxProcessesAndOrThreads: 120,
  maxFileSize: 1024,
  maxMaxFileSize: 4096,
  numberOfRuns: 1,
  maxNumberOfRuns: 20,
  maxExtractSize: 10240,
};

/**
 * Settings from a judge0.conf (KEY=VALUE lines, as `scripts/load-config` sources them), read the way
 * app/helpers/config.rb:5-43 reads the environment: flags are on unless "false" (or off unless "true"),
 * numbers fall back to the default when a key is empty or absent.
 */
export function settingsFromJudge0Conf(text: string): Partial<Judge0Settings> {
  const env = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (match) env.set(match[1], match[2].trim().replace(/^"(.*)"$/, '$1'));
  }
  const out: Partial<Judge0Settings> = {};
  const set = <K extends keyof Judge0Settings>(key: K, value: Judge0Settings[K] | undefined) => {
    if (value !== undefined) out[key] = value;
  };
  const onUnlessFalse = (k: string) => (env.has(k) ? env.get(k) !== 'false' : undefined);
  const offUnlessTrue = (k: string) => (env.has(k) ? env.get(k) === 'true' : undefined);
  const num = (k: string) => (env.get(k) ? Number(env.get(k)) : undefined);
  set('maintenanceMode', offUnlessTrue('MAINTENANCE_MODE'));
  set('maintenanceMessage', env.get('MAINTENANCE_MESSAGE') || undefined);
  set('enableWaitResult', onUnlessFalse('ENABLE_WAIT_RESULT'));
  set('enableCompilerOptions', onUnlessFalse('ENABLE_COMPILER_OPTIONS'));
  set(
    'allowedLanguagesForCompilerOptions',
    env.has('ALLOWED_LANGUAGES_FOR_COMPILER_OPTIONS')
      ? env.get('ALLOWED_LANGUAGES_FOR_COMPILER_OPTIONS')!.split(/\s+/).filter(Boolean)
      : undefined,
  );
  set('enableCommandLineArguments', onUnlessFalse('ENABLE_COMMAND_LINE_ARGUMENTS'));
  set('enableAdditionalFiles', onUnlessFalse('ENABLE_ADDITIONAL_FILES'));
  set('enableBatchedSubmissions', onUnlessFalse('ENABLE_BATCHED_SUBMISSIONS'));
  const numbers: Array<[keyof Judge0Settings, string]> = [
    ['maxSubmissionBatchSize', 'MAX_SUBMISSION_BATCH_SIZE'],
    ['maxQueueSize', 'MAX_QUEUE_SIZE'],
    ['cpuTimeLimit', 'CPU_TIME_LIMIT'],
    ['maxCpuTimeLimit', 'MAX_CPU_TIME_LIMIT'],
    ['cpuExtraTime', 'CPU_EXTRA_TIME'],
    ['maxCpuExtraTime', 'MAX_CPU_EXTRA_TIME'],
    ['wallTimeLimit', 'WALL_TIME_LIMIT'],
    ['maxWallTimeLimit', 'MAX_WALL_TIME_LIMIT'],
    ['memoryLimit', 'MEMORY_LIMIT'],
    ['maxMemoryLimit', 'MAX_MEMORY_LIMIT'],
    ['stackLimit', 'STACK_LIMIT'],
    ['maxStackLimit', 'MAX_STACK_LIMIT'],
    ['maxProcessesAndOrThreads', 'MAX_PROCESSES_AND_OR_THREADS'],
    ['maxMaxProcessesAndOrThreads', 'MAX_MAX_PROCESSES_AND_OR_THREADS'],
    ['maxFileSize', 'MAX_FILE_SIZE'],
    ['maxMaxFileSize', 'MAX_MAX_FILE_SIZE'],
    ['numberOfRuns', 'NUMBER_OF_RUNS'],
    ['maxNumberOfRuns', 'MAX_NUMBER_OF_RUNS'],
    ['maxExtractSize', 'MAX_EXTRACT_SIZE'],
  ];
  for (const [key, name] of numbers) set(key, num(name) as never);
  return out;
}

/**
 * Judge0 CE 1.13.1's names and commands (db/languages/active.rb) for the languages tests use, with
 * the local compilers' paths. GCC 9.2 defaults to gnu11 / gnu++14, so the test server says so.
 */
export const TEST_LANGUAGES: BoxLanguage[] = [
  {
    id: 48,
    name: 'C (GCC 7.4.0)',
    is_archived: false,
    source_file: 'main.c',
    compile_cmd: '/usr/bin/gcc -std=gnu11 %s main.c',
    run_cmd: './a.out',
  },
  {
    id: 50,
    name: 'C (GCC 9.2.0)',
    is_archived: false,
    source_file: 'main.c',
    compile_cmd: '/usr/bin/gcc -std=gnu11 %s main.c',
    run_cmd: './a.out',
  },
  {
    id: 52,
    name: 'C++ (GCC 7.4.0)',
    is_archived: false,
    source_file: 'main.cpp',
    compile_cmd: '/usr/bin/g++ -std=gnu++14 %s main.cpp',
    run_cmd: './a.out',
  },
  {
    id: 54,
    name: 'C++ (GCC 9.2.0)',
    is_archived: false,
    source_file: 'main.cpp',
    compile_cmd: '/usr/bin/g++ -std=gnu++14 %s main.cpp',
    run_cmd: './a.out',
  },
  {
    id: 62,
    name: 'Java (OpenJDK 13.0.1)',
    is_archived: false,
    source_file: 'Main.java',
    compile_cmd: '/usr/bin/javac %s Main.java',
    run_cmd: '/usr/bin/java Main',
  },
  {
    id: 63,
    name: 'JavaScript (Node.js 12.14.0)',
    is_archived: false,
    source_file: 'script.js',
    compile_cmd: null,
    run_cmd: '/usr/bin/node script.js',
  },
  {
    id: 70,
    name: 'Python (2.7.17)',
    is_archived: false,
    source_file: 'script.py',
    compile_cmd: null,
    run_cmd: '/usr/bin/python2 script.py',
  },
  {
    id: 71,
    name: 'Python (3.8.1)',
    is_archived: false,
    source_file: 'script.py',
    compile_cmd: null,
    run_cmd: '/usr/bin/python3 script.py',
  },
  {
    id: 60,
    name: 'Go (1.13.5)',
    is_archived: false,
    source_file: 'main.go',
    compile_cmd: 'GOCACHE=/tmp/.cache/go-build /usr/bin/go build %s main.go',
    run_cmd: './main',
  }, // active.rb:134-141
  {
    id: 73,
    name: 'Rust (1.40.0)',
    is_archived: false,
    source_file: 'main.rs',
    compile_cmd: '/usr/bin/rustc %s main.rs',
    run_cmd: './main',
  }, // active.rb:233-239
  { id: 89, name: 'Multi-file program', is_archived: false, source_file: null, compile_cmd: null, run_cmd: null },
  { id: 2, name: 'Bash (4.4)', is_archived: true, source_file: 'script.sh', compile_cmd: null, run_cmd: '/bin/bash script.sh' },
];

const STATUS_NAMES: Record<number, string> = {
  1: 'In Queue',
  2: 'Processing',
  3: 'Accepted',
  4: 'Wrong Answer',
  5: 'Time Limit Exceeded',
  6: 'Compilation Error',
  7: 'Runtime Error (SIGSEGV)',
  8: 'Runtime Error (SIGXFSZ)',
  9: 'Runtime Error (SIGFPE)',
  10: 'Runtime Error (SIGABRT)',
  11: 'Runtime Error (NZEC)',
  12: 'Runtime Error (Other)',
  13: 'Internal Error',
  14: 'Exec Format Error',
}; // app/enumerations/status.rb:2-15

/** Submission columns, in schema order (app/models/submission.rb:5-38); the serializer adds status and language. */
const COLUMNS = [
  'source_code',
  'language_id',
  'stdin',
  'expected_output',
  'stdout',
  'status_id',
  'created_at',
  'finished_at',
  'time',
  'memory',
  'stderr',
  'token',
  'number_of_runs',
  'cpu_time_limit',
  'cpu_extra_time',
  'wall_time_limit',
  'memory_limit',
  'stack_limit',
  'max_processes_and_or_threads',
  'enable_per_process_and_thread_time_limit',
  'enable_per_process_and_thread_memory_limit',
  'max_file_size',
  'compile_output',
  'exit_code',
  'exit_signal',
  'message',
  'wall_time',
  'compiler_options',
  'command_line_arguments',
  'redirect_stderr_to_stdout',
  'callback_url',
  'additional_files',
  'enable_network',
];
const AVAILABLE_FIELDS = [...COLUMNS, 'status', 'language'];
const DEFAULT_FIELDS = ['token', 'time', 'memory', 'stdout', 'stderr', 'compile_output', 'message', 'status']; // submission_serializer.rb:4-15
const DECIMAL_COLUMNS = new Set(['time', 'wall_time', 'cpu_time_limit', 'cpu_extra_time', 'wall_time_limit']);

/** Ruby's Base64.encode64: RFC 2045 lines of 60 characters, each ended by "\n". */
export function rubyEncode64(data: Buffer | string): string {
  const flat = Buffer.from(data).toString('base64');
  if (!flat) return '';
  return flat.replace(/.{1,60}/g, (line) => `${line}\n`);
}
/** Ruby's Base64.decode64 ignores characters outside the alphabet. */
const rubyDecode64 = (text: string): Buffer => Buffer.from(text.replace(/[^A-Za-z0-9+/]/g, ''), 'base64');

interface Row {
  token: string;
  columns: Record<string, unknown>;
  language: BoxLanguage;
  sourceCode: Buffer | null;
  stdin: Buffer | null;
  expectedOutput: Buffer | null;
  additionalFiles: Buffer | null;
  result?: BoxResult;
  statusId: number;
}

export interface Judge0TestServer {
  baseUrl: string;
  settings: Judge0Settings;
  /** Requests seen, as "METHOD /path". */
  requests: string[];
  /** GET paths with their query strings. */
  gets: string[];
  /** Request bodies of POSTs, parsed (tests check what the adapter sent). */
  posted: Array<{ path: string; query: string; body: unknown }>;
  faults: {
    /** Answer the next N requests with this HTTP status. */
    failNext: { count: number; status: number };
    /** The next N jobs end with this status instead of running (13 Internal Error: isolate_job.rb:44-47). */
    forceStatus: { count: number; status: number };
    /** Hang (never answer) every request while true. */
    hang: boolean;
    /** Workers stop taking jobs while true (submissions stay In Queue). */
    stuck: boolean;
    /** The next N submitted items fail validation with these errors (as a 422 item in a batch). */
    rejectItems: { count: number; errors: Record<string, string[]> };
  };
  /** Jobs waiting for a worker (Resque.size). */
  queued(): number;
  /** Submissions created so far. */
  created(): number;
  /** Stops listening (connections refused) but keeps the submissions, as a restarting Judge0 would. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface Judge0TestServerOptions {
  authToken?: string;
  settings?: Partial<Judge0Settings>;
  /** Judge0 workers (parallel jobs). Default 2. */
  workers?: number;
  /** First uid of the sandbox slots. Default 63000. */
  uidBase?: number;
  /** Keys of GET /config_info that misreport the settings (a proxy or a patched Judge0 in front). */
  configInfoOverrides?: Record<string, unknown>;
}

export async function startJudge0TestServer(opts: Judge0TestServerOptions = {}): Promise<Judge0TestServer> {
  const settings: Judge0Settings = { ...JUDGE0_DEFAULTS, ...opts.settings };
  const cgroupVersion = detectCgroupVersion();
  await prepareCgroups(cgroupVersion);
  const workRoot = await fsp.mkdtemp(path.join(os.tmpdir(), 'judge0-test-'));
  await fsp.chmod(workRoot, 0o711);
  const box = new Judge0Box(
    workRoot,
    cgroupVersion,
    {
      maxCpuTimeLimit: settings.maxCpuTimeLimit,
      maxWallTimeLimit: settings.maxWallTimeLimit,
      maxMemoryLimit: settings.maxMemoryLimit,
      maxStackLimit: settings.maxStackLimit,
      maxMaxProcesses: settings.maxMaxProcessesAndOrThreads,
      maxMaxFileSize: settings.maxMaxFileSize,
      maxExtractSize: settings.maxExtractSize,
    },
    (await ensureSeccompFilter(path.join(workRoot, 'cache'))).file,
  );

  const rows = new Map<string, Row>();
  const queue: Row[] = [];
  const requests: string[] = [];
  const gets: string[] = [];
  const posted: Judge0TestServer['posted'] = [];
  const faults: Judge0TestServer['faults'] = {
    failNext: { count: 0, status: 500 },
    forceStatus: { count: 0, status: 13 },
    hang: false,
    stuck: false,
    rejectItems: { count: 0, errors: { language_id: ["can't be blank"] } },
  };
  const hanging = new Set<http.ServerResponse>();
  const waiters = new Map<string, Array<() => void>>();
  const workers = opts.workers ?? 2;
  const freeUids = Array.from({ length: workers }, (_, i) => (opts.uidBase ?? 63000) + i);
  let closed = false;

  const finish = (row: Row, result: BoxResult) => {
    row.result = result;
    row.statusId = result.statusId;
    for (const wake of waiters.get(row.token) ?? []) wake();
    waiters.delete(row.token);
  };

  const pump = () => {
    while (!closed && !faults.stuck && freeUids.length && queue.length) {
      const row = queue.shift()!;
      const uid = freeUids.pop()!;
      row.statusId = 2;
      void perform(row, uid).finally(() => {
        freeUids.push(uid);
        pump();
      });
    }
  };

  const perform = async (row: Row, uid: number) => {
    if (faults.forceStatus.count > 0) {
      faults.forceStatus.count--;
      const message = 'Cleanup of sandbox 42 failed.';
      return finish(row, {
        statusId: faults.forceStatus.status,
        stdout: null,
        stderr: null,
        compileOutput: null,
        time: null,
        wallTime: null,
        memory: null,
        exitCode: null,
        exitSignal: null,
        message,
      });
    }
    const c = row.columns;
    const sub: BoxSubmission = {
      language: row.language,
      sourceCode: row.sourceCode?.toString('utf8') ?? null,
      stdin: row.stdin?.toString('utf8') ?? '',
      additionalFiles: row.additionalFiles,
      compilerOptions: String(c.compiler_options ?? ''),
      commandLineArguments: String(c.command_line_arguments ?? ''),
      cpuTimeLimit: Number(c.cpu_time_limit),
      cpuExtraTime: Number(c.cpu_extra_time),
      wallTimeLimit: Number(c.wall_time_limit),
      memoryLimit: Number(c.memory_limit),
      stackLimit: Number(c.stack_limit),
      maxProcesses: Number(c.max_processes_and_or_threads),
      maxFileSize: Number(c.max_file_size),
      redirectStderrToStdout: c.redirect_stderr_to_stdout === true,
    };
    try {
      // number_of_runs passes, each compiling again; stop at the first non-Accepted (isolate_job.rb:24-42).
      const results: BoxResult[] = [];
      for (let i = 0; i < Number(c.number_of_runs); i++) {
        const result = await box.perform(sub, uid);
        results.push(result);
        if (result.statusId !== 3) break;
      }
      const last = results[results.length - 1];
      const mean = (pick: (r: BoxResult) => number | null) =>
        last.statusId === 6 ? null : results.reduce((s, r) => s + (pick(r) ?? 0), 0) / results.length;
      const memory = mean((r) => r.memory);
      finish(row, { ...last, time: mean((r) => r.time), memory: memory === null ? null : Math.round(memory) });
    } catch (error) {
      finish(row, {
        statusId: 13,
        stdout: null,
        stderr: null,
        compileOutput: null,
        time: null,
        wallTime: null,
        memory: null,
        exitCode: null,
        exitSignal: null,
        message: (error as Error).message,
      });
    }
  };

  /** Submission.new + set_defaults + validations (submission.rb:46-76, 233-259). */
  const build = (params: Record<string, unknown>, base64: boolean): { row?: Row; errors?: Record<string, string[]> } => {
    const s = settings;
    const text = (key: string): Buffer | null => {
      const v = params[key];
      if (v === undefined || v === null) return null;
      const str = String(v);
      return base64 ? rubyDecode64(str) : Buffer.from(str, 'utf8');
    };
    const languageId = params.language_id;
    const language = TEST_LANGUAGES.find((l) => String(l.id) === String(languageId));
    const project = language?.name === 'Multi-file program';
    const orDefault = (key: string, fallback: unknown) =>
      params[key] === undefined || params[key] === null || params[key] === '' ? fallback : params[key];
    const columns: Record<string, unknown> = {
      language_id: languageId === undefined ? null : Number(languageId),
      number_of_runs: orDefault('number_of_runs', s.numberOfRuns),
      cpu_time_limit: orDefault('cpu_time_limit', s.cpuTimeLimit),
      cpu_extra_time: orDefault('cpu_extra_time', s.cpuExtraTime),
      wall_time_limit: orDefault('wall_time_limit', s.wallTimeLimit),
      memory_limit: orDefault('memory_limit', s.memoryLimit),
      stack_limit: orDefault('stack_limit', s.stackLimit),
      max_processes_and_or_threads: orDefault('max_processes_and_or_threads', s.maxProcessesAndOrThreads),
      enable_per_process_and_thread_time_limit: params.enable_per_process_and_thread_time_limit ?? false,
      enable_per_process_and_thread_memory_limit: params.enable_per_process_and_thread_memory_limit ?? false,
      max_file_size: orDefault('max_file_size', s.maxFileSize),
      compiler_options: params.compiler_options ?? null,
      command_line_arguments: params.command_line_arguments ?? null,
      redirect_stderr_to_stdout: params.redirect_stderr_to_stdout ?? false,
      callback_url: params.callback_url ?? null,
      enable_network: params.enable_network ?? false,
    };
    const sourceCode = text('source_code');
    const additional = typeof params.additional_files === 'string' ? rubyDecode64(params.additional_files) : null;
    const errors: Record<string, string[]> = {};
    const add = (key: string, message: string) => (errors[key] ??= []).push(message);
    const blank = (b: Buffer | null) => !b || b.toString('utf8').trim() === '';
    if (!project && blank(sourceCode)) add('source_code', "can't be blank");
    if (project && !blank(sourceCode)) add('source_code', 'must be blank');
    if (project && !additional?.length) add('additional_files', "can't be blank");
    if (columns.language_id === null || Number.isNaN(columns.language_id)) add('language_id', "can't be blank");
    const numeric = (key: string, min: number, minInclusive: boolean, max: number, maxIsFloat = false) => {
      const raw = columns[key];
      const n = typeof raw === 'number' ? raw : Number(raw);
      if (raw === '' || raw === true || raw === false || Number.isNaN(n)) return add(key, 'is not a number');
      columns[key] = n;
      if (minInclusive ? n < min : n <= min) add(key, `must be greater than${minInclusive ? ' or equal to' : ''} ${min}`);
      // Rails prints a Float bound with its decimal (config.rb reads some maxima with to_f).
      if (n > max) add(key, `must be less than or equal to ${maxIsFloat && Number.isInteger(max) ? `${max}.0` : max}`);
    };
    numeric('number_of_runs', 0, false, s.maxNumberOfRuns);
    numeric('cpu_time_limit', 0, true, s.maxCpuTimeLimit, true);
    numeric('cpu_extra_time', 0, true, s.maxCpuExtraTime, true);
    numeric('wall_time_limit', 1, true, s.maxWallTimeLimit, true);
    numeric('memory_limit', 2048, true, s.maxMemoryLimit);
    numeric('stack_limit', 0, true, s.maxStackLimit);
    numeric('max_processes_and_or_threads', 0, false, s.maxMaxProcessesAndOrThreads);
    numeric('max_file_size', 0, true, s.maxMaxFileSize);
    if (String(columns.compiler_options ?? '').length > 512) add('compiler_options', 'is too long (maximum is 512 characters)');
    if (String(columns.command_line_arguments ?? '').length > 512) add('command_line_arguments', 'is too long (maximum is 512 characters)');
    if (columns.language_id !== null && !Number.isNaN(columns.language_id)) {
      if (!language) add('language_id', `language with id ${languageId} doesn't exist`);
      else if (language.is_archived) add('language_id', `language with id ${languageId} is archived and cannot be used anymore`);
    }
    const options = String(columns.compiler_options ?? '');
    if (options.trim() !== '') {
      if (!s.enableCompilerOptions) add('compiler_options', 'setting compiler options is not allowed');
      else if (language && language.compile_cmd === null)
        add('compiler_options', 'setting compiler options is only allowed for compiled languages');
      else if (
        language &&
        s.allowedLanguagesForCompilerOptions.length &&
        !s.allowedLanguagesForCompilerOptions.some((p) => language.name.startsWith(`${p} `))
      ) {
        const names = s.allowedLanguagesForCompilerOptions;
        const list = names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}` : names[0];
        add('compiler_options', `setting compiler options is only allowed for ${list}`);
      }
    }
    if (String(columns.command_line_arguments ?? '').trim() !== '' && !s.enableCommandLineArguments)
      add('command_line_arguments', 'setting command line arguments is not allowed');
    if (additional?.length && !s.enableAdditionalFiles) add('additional_files', 'setting additional files is not allowed');
    if (faults.rejectItems.count > 0) {
      faults.rejectItems.count--;
      return { errors: faults.rejectItems.errors };
    }
    if (Object.keys(errors).length) return { errors };
    const token = randomUUID();
    columns.token = token;
    columns.created_at = new Date().toISOString();
    return {
      row: {
        token,
        columns,
        language: language!,
        sourceCode,
        stdin: text('stdin'),
        expectedOutput: text('expected_output'),
        additionalFiles: additional,
        statusId: 1,
      },
    };
  };

  const serialize = (row: Row, fields: string[], base64: boolean): Record<string, unknown> => {
    const r = row.result;
    const out = (b: Buffer | null | undefined) => (b ? (base64 ? rubyEncode64(b) : b.toString('utf8')) : null);
    const values: Record<string, unknown> = {
      ...row.columns,
      source_code: out(row.sourceCode),
      stdin: out(row.stdin),
      expected_output: out(row.expectedOutput),
      stdout: out(r?.stdout),
      stderr: out(r?.stderr),
      compile_output: out(r?.compileOutput),
      message: r?.message ? (base64 ? rubyEncode64(r.message) : r.message) : null,
      status_id: row.statusId,
      status: { id: row.statusId, description: STATUS_NAMES[row.statusId] },
      language: { id: row.language.id, name: row.language.name },
      time: r?.time ?? null,
      wall_time: r?.wallTime ?? null,
      memory: r?.memory ?? null,
      exit_code: r?.exitCode ?? null,
      exit_signal: r?.exitSignal ?? null,
      finished_at: r ? new Date().toISOString() : null,
      additional_files: row.additionalFiles ? rubyEncode64(row.additionalFiles) : null,
    };
    const shown: Record<string, unknown> = {};
    for (const field of fields) {
      const v = values[field] ?? null;
      shown[field] = DECIMAL_COLUMNS.has(field) && v !== null ? decimal(Number(v)) : v;
    }
    return shown;
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://judge0');
      const raw = Buffer.concat(chunks).toString('utf8');
      requests.push(`${req.method} ${url.pathname}`);
      if (req.method === 'GET') gets.push(`${url.pathname}${url.search}`);
      pump(); // a test may have cleared `faults.stuck`
      const send = (status: number, payload?: unknown) => {
        if (payload === undefined) {
          res.writeHead(status).end();
          return;
        }
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(payload));
      };
      if (faults.hang) return void hanging.add(res);
      if (faults.failNext.count > 0) {
        faults.failNext.count--;
        return send(faults.failNext.status, { error: 'injected failure' });
      }
      let body: Record<string, unknown> = {};
      try {
        body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      } catch {
        return send(400, { status: 400, error: 'Bad Request' });
      }
      if (req.method === 'POST') posted.push({ path: url.pathname, query: url.search, body });
      const param = (key: string): unknown => url.searchParams.get(key) ?? body[key];
      // sessions_controller.rb:23-25,41-50: the token may come as header or parameter.
      if (opts.authToken) {
        const given = String(req.headers['x-auth-token'] ?? param('X-Auth-Token') ?? '');
        if (given !== opts.authToken) return send(401);
      }
      const base64 = param('base64_encoded') === 'true'; // submissions_controller.rb:220-222
      const fieldsParam = () => {
        // fields/submission.rb:10-23: split on ",", "*" is everything, none given is the defaults.
        const asked = String(param('fields') ?? '')
          .split(',')
          .filter((x) => x !== '');
        const invalid = asked.filter((x) => x !== '*' && !AVAILABLE_FIELDS.includes(x));
        const fields = asked.includes('*')
          ? AVAILABLE_FIELDS
          : asked.filter((x) => !invalid.includes(x)).length
            ? asked.filter((x) => !invalid.includes(x))
            : DEFAULT_FIELDS;
        return { fields, invalid };
      };
      const queueFull = (n: number) => queue.length + n > settings.maxQueueSize; // submissions_controller.rb:207-212

      // judge0 v1.13.1 config/routes.rb:26 `get 'workers', to: 'health#workers'`; health_controller.rb: one entry per
      // queue Resque knows (a queue exists once a job was pushed to it; IsolateJob queue_as JUDGE0_VERSION), always 200.
      // `stuck` plays workers that died: none available.
      if (req.method === 'GET' && url.pathname === '/workers') {
        if (!rows.size) return send(200, []);
        const busy = workers - freeUids.length;
        const available = faults.stuck ? 0 : workers;
        return send(200, [
          { queue: '1.13.1', size: queue.length, available, idle: Math.max(0, available - busy), working: busy, paused: 0, failed: 0 },
        ]);
      }
      if (req.method === 'GET' && url.pathname === '/config_info')
        return send(200, { ...configInfo(settings), ...opts.configInfoOverrides });
      if (req.method === 'GET' && url.pathname === '/languages') {
        return send(
          200,
          TEST_LANGUAGES.filter((l) => !l.is_archived)
            .sort((a, b) => a.name.localeCompare(b.name))
            .map(({ id, name }) => ({ id, name })),
        );
      }
      const languageMatch = /^\/languages\/(\d+)$/.exec(url.pathname);
      if (req.method === 'GET' && languageMatch) {
        const language = TEST_LANGUAGES.find((l) => l.id === Number(languageMatch[1]));
        return language ? send(200, language) : send(404, { status: 404, error: 'Not Found' });
      }

      if (req.method === 'POST' && url.pathname === '/submissions') {
        if (settings.maintenanceMode) return send(503, { error: settings.maintenanceMessage });
        const wait = param('wait') === 'true';
        if (wait && !settings.enableWaitResult) return send(400, { error: 'wait not allowed' });
        if (queueFull(1)) return send(503, { error: 'queue is full' });
        const { fields, invalid } = fieldsParam();
        if (invalid.length) return send(400, { error: `invalid fields: [${invalid.join(', ')}]` });
        const built = build(body, base64);
        if (!built.row) return send(422, built.errors);
        const row = built.row;
        rows.set(row.token, row);
        queue.push(row);
        pump();
        if (!wait) return send(201, { token: row.token });
        // wait=true runs the job in the request (perform_now): submissions_controller.rb:106-113.
        waiters.set(row.token, [...(waiters.get(row.token) ?? []), () => send(201, serialize(row, fields, base64))]);
        return;
      }
      if (url.pathname === '/submissions/batch' && (req.method === 'POST' || req.method === 'GET')) {
        if (!settings.enableBatchedSubmissions) return send(400, { error: 'batched submissions are not allowed' });
        if (req.method === 'POST') {
          const items = Array.isArray(body.submissions) ? (body.submissions as Array<Record<string, unknown>>) : [];
          if (queueFull(items.length || 1)) return send(503, { error: 'queue is full' });
          if (items.length > settings.maxSubmissionBatchSize) {
            return send(400, {
              error: `number of submissions in a batch should be less than or equal to ${settings.maxSubmissionBatchSize}`,
            });
          }
          if (items.length === 0) return send(400, { error: 'there should be at least one submission in a batch' });
          let anyValid = false;
          const answer = items.map((item) => {
            const built = build(item, base64);
            if (!built.row) return built.errors;
            anyValid = true;
            rows.set(built.row.token, built.row);
            queue.push(built.row);
            return { token: built.row.token };
          });
          pump();
          return send(anyValid ? 201 : 422, answer);
        }
        const { fields, invalid } = fieldsParam();
        if (invalid.length) return send(400, { error: `invalid fields: [${invalid.join(', ')}]` });
        const tokens = String(req.headers.tokens ?? param('tokens') ?? '')
          .trim()
          .split(',')
          .filter((t) => t !== '');
        if (tokens.length > settings.maxSubmissionBatchSize) {
          return send(400, {
            error: `number of submissions in a batch should be less than or equal to ${settings.maxSubmissionBatchSize}`,
          });
        }
        if (tokens.length === 0) return send(400, { error: 'there should be at least one submission in a batch' });
        return send(200, { submissions: tokens.map((t) => (rows.has(t) ? serialize(rows.get(t)!, fields, base64) : null)) });
      }
      const single = /^\/submissions\/([^/]+)$/.exec(url.pathname);
      if (req.method === 'GET' && single) {
        const { fields, invalid } = fieldsParam();
        if (invalid.length) return send(400, { error: `invalid fields: [${invalid.join(', ')}]` });
        const row = rows.get(single[1]);
        return row ? send(200, serialize(row, fields, base64)) : send(404, { status: 404, error: 'Not Found' });
      }
      send(404, { status: 404, error: 'Not Found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const stop = () => {
    for (const res of hanging) res.destroy();
    hanging.clear();
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    settings,
    requests,
    gets,
    posted,
    faults,
    queued: () => queue.length,
    created: () => rows.size,
    stop,
    start: () => new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve())),
    close: async () => {
      closed = true;
      await stop().catch(() => undefined);
      await fsp.rm(workRoot, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}

/** Rails renders a BigDecimal column as a string ("0.002"). */
function decimal(n: number): string {
  const s = String(Math.round(n * 1000) / 1000);
  return s.includes('.') ? s : `${s}.0`;
}

function configInfo(s: Judge0Settings): Record<string, unknown> {
  return {
    maintenance_mode: s.maintenanceMode,
    enable_wait_result: s.enableWaitResult,
    enable_compiler_options: s.enableCompilerOptions,
    allowed_languages_for_compile_options: s.allowedLanguagesForCompilerOptions,
    enable_command_line_arguments: s.enableCommandLineArguments,
    enable_submission_delete: false,
    enable_callbacks: true,
    callbacks_max_tries: 3,
    callbacks_timeout: 5.0,
    enable_additional_files: s.enableAdditionalFiles,
    max_queue_size: s.maxQueueSize,
    cpu_time_limit: s.cpuTimeLimit,
    max_cpu_time_limit: s.maxCpuTimeLimit,
    cpu_extra_time: s.cpuExtraTime,
    max_cpu_extra_time: s.maxCpuExtraTime,
    wall_time_limit: s.wallTimeLimit,
    max_wall_time_limit: s.maxWallTimeLimit,
    memory_limit: s.memoryLimit,
    max_memory_limit: s.maxMemoryLimit,
    stack_limit: s.stackLimit,
    max_stack_limit: s.maxStackLimit,
    max_processes_and_or_threads: s.maxProcessesAndOrThreads,
    max_max_processes_and_or_threads: s.maxMaxProcessesAndOrThreads,
    enable_per_process_and_thread_time_limit: false,
    allow_enable_per_process_and_thread_time_limit: true,
    enable_per_process_and_thread_memory_limit: false,
    allow_enable_per_process_and_thread_memory_limit: true,
    max_file_size: s.maxFileSize,
    max_max_file_size: s.maxMaxFileSize,
    number_of_runs: s.numberOfRuns,
    max_number_of_runs: s.maxNumberOfRuns,
    redirect_stderr_to_stdout: false,
    max_extract_size: s.maxExtractSize,
    enable_batched_submissions: s.enableBatchedSubmissions,
    max_submission_batch_size: s.maxSubmissionBatchSize,
    submission_cache_duration: 1.0,
    use_docs_as_homepage: false,
    allow_enable_network: true,
    enable_network: false,
  };
}
