/**
 * Judge0 CE 1.13.1 results -> our run facts. Judge0 compares output itself only when given
 * expected_output; we never send it (checkers run in the worker), so 3 "Accepted" just means the
 * program exited 0.
 *
 * What real Judge0 sends (app/jobs/isolate_job.rb): programs run as `/bin/bash run`, so a signal
 * kills bash's child and bash exits 128+N: status 11 (NZEC) with exit_code 139 (SIGSEGV), 136
 * (SIGFPE), 134 (SIGABRT), 137 (SIGKILL, e.g. the memory cgroup), 153 (SIGXFSZ: max_file_size) and
 * exit_signal null; statuses 7-10 and 12 only when bash itself dies by a signal. exit_code is 0 on
 * a time-out (isolate_job.rb:251). There is no memory-limit status: see memory inference below.
 */
import type { RunOutcome, RunStatus } from '../port';

export const JUDGE0_STATUS = {
  IN_QUEUE: 1,
  PROCESSING: 2,
  ACCEPTED: 3,
  WRONG_ANSWER: 4,
  TIME_LIMIT: 5,
  COMPILATION_ERROR: 6,
  SIGSEGV: 7,
  SIGXFSZ: 8,
  SIGFPE: 9,
  SIGABRT: 10,
  NZEC: 11,
  RUNTIME_OTHER: 12,
  INTERNAL_ERROR: 13,
  EXEC_FORMAT_ERROR: 14,
} as const;

/** The fields the adapter asks for (`fields=`; wall_time only comes when asked: submission_serializer.rb:4-15). */
export const FIELDS = 'token,status,stdout,stderr,compile_output,message,time,wall_time,memory,exit_code,exit_signal';

export interface Judge0Submission {
  token: string;
  status: { id: number; description: string };
  stdout: string | null;
  stderr: string | null;
  compile_output: string | null;
  message: string | null;
  /** seconds, as a decimal string */
  time: string | null;
  wall_time?: string | null;
  /** KB */
  memory: number | null;
  exit_code: number | null;
  exit_signal: number | null;
}

export const isFinal = (statusId: number) => statusId >= JUDGE0_STATUS.ACCEPTED;
export const isRetryableInternal = (statusId: number) =>
  statusId === JUDGE0_STATUS.INTERNAL_ERROR || statusId === JUDGE0_STATUS.EXEC_FORMAT_ERROR;

const OOM_TEXT = new RegExp(
  [
    'MemoryError',
    'std::bad_alloc',
    'OutOfMemoryError',
    'JavaScript heap out of memory',
    'Cannot allocate memory',
    'runtime: out of memory', // Go
    'memory allocation of \\d+ bytes failed', // Rust
  ].join('|'),
);
export const SIGNAL_NAMES: Record<number, string> = {
  4: 'SIGILL',
  6: 'SIGABRT',
  7: 'SIGBUS',
  8: 'SIGFPE',
  9: 'SIGKILL',
  11: 'SIGSEGV',
  13: 'SIGPIPE',
  15: 'SIGTERM',
  24: 'SIGXCPU',
  25: 'SIGXFSZ',
};
const STATUS_SIGNALS: Record<number, number> = { 7: 11, 8: 25, 9: 8, 10: 6 }; // status.rb:17-25

/** What the adapter sent and the case's limits, needed to read a result. */
export interface ReadContext {
  memoryLimitMb: number;
  /** memory_limit sent, KB (the box's limit: runtime included). */
  sentMemoryKb: number;
  outputLimitBytes: number;
  /** max_file_size sent, KB: output that reached it was cut by RLIMIT_FSIZE. */
  sentMaxFileSizeKb: number;
}

/** The signal that ended the program: exit_signal, a runtime-error status, or bash's 128+N. */
export function signalOf(s: Pick<Judge0Submission, 'status' | 'exit_code' | 'exit_signal'>): number | null {
  if (s.exit_signal) return s.exit_signal;
  if (STATUS_SIGNALS[s.status.id]) return STATUS_SIGNALS[s.status.id];
  const code = s.exit_code ?? 0;
  return s.status.id === JUDGE0_STATUS.NZEC && code > 128 && code < 128 + 65 ? code - 128 : null;
}

export function toRunOutcome(
  s: Judge0Submission,
  decoded: { stdout: string; stdoutBytes: number; stderr: string; message: string },
  ctx: ReadContext,
): RunOutcome {
  const timeMs = Math.round(Number(s.time ?? 0) * 1000);
  const signalNumber = signalOf(s);
  const signal = signalNumber ? (SIGNAL_NAMES[signalNumber] ?? `SIG${signalNumber}`) : null;
  const base = {
    stdout: decoded.stdout,
    stderr: decoded.stderr,
    timeMs,
    wallMs: s.wall_time != null ? Math.round(Number(s.wall_time) * 1000) : timeMs,
    memoryMb: Math.round(((s.memory ?? 0) / 1024) * 10) / 10,
    exitCode: signal ? null : s.exit_code,
    signal,
  };
  const outcome = (status: RunStatus, message?: string): RunOutcome => ({ ...base, status, ...(message ? { message } : {}) });
  const id = s.status.id;
  if (id === JUDGE0_STATUS.INTERNAL_ERROR || id === JUDGE0_STATUS.EXEC_FORMAT_ERROR || id < JUDGE0_STATUS.ACCEPTED || id > 14) {
    return {
      ...outcome('internal-error', `Judge0 status ${id} ${s.status.description}${decoded.message ? `: ${decoded.message.trim()}` : ''}`),
      exitCode: null,
    };
  }
  if (decoded.stdoutBytes > ctx.outputLimitBytes) return outcome('output-limit', `output exceeded ${ctx.outputLimitBytes} bytes`);
  // Output cut at max_file_size: SIGXFSZ (exit 153), or a runtime that ignores SIGXFSZ (Python: "File
  // too large", Node: exits 0 with the output truncated).
  if (signal === 'SIGXFSZ' || decoded.stdoutBytes >= ctx.sentMaxFileSizeKb * 1024) {
    return outcome('output-limit', `output reached Judge0's max_file_size (${ctx.sentMaxFileSizeKb} KB)`);
  }
  if (id === JUDGE0_STATUS.TIME_LIMIT) return { ...outcome('time-limit', 'Judge0: Time Limit Exceeded'), exitCode: null };
  if (id === JUDGE0_STATUS.ACCEPTED || id === JUDGE0_STATUS.WRONG_ANSWER) return { ...outcome('exited'), exitCode: 0 };
  if (id === JUDGE0_STATUS.COMPILATION_ERROR) return outcome('internal-error', 'Judge0: unexpected compilation error for a single case');
  if (signal === 'SIGXCPU') return outcome('time-limit', 'Judge0: CPU time limit (SIGXCPU)');
  if (inferMemoryLimit(s, base.signal, decoded.stderr, ctx)) {
    return outcome('memory-limit', `memory limit ${ctx.memoryLimitMb} MB exceeded (inferred: Judge0 has no memory-limit status)`);
  }
  if (signal) return outcome('signaled');
  return outcome('exited');
}

/**
 * Judge0 has no memory-limit status. A run is MLE when it was SIGKILLed (the memory cgroup's OOM
 * killer: exit_code 137 through bash) with memory at or above 90 % of the box's limit, or when it
 * failed with a runtime's out-of-memory message (malloc failing, bad_alloc, Java/V8 heap limits).
 */
export function inferMemoryLimit(
  s: Pick<Judge0Submission, 'memory' | 'exit_code'>,
  signal: string | null,
  stderr: string,
  ctx: Pick<ReadContext, 'sentMemoryKb'>,
): boolean {
  const nearLimit = (s.memory ?? 0) >= ctx.sentMemoryKb * 0.9;
  const failed = signal !== null || (s.exit_code ?? 0) !== 0;
  return (signal === 'SIGKILL' && nearLimit) || (failed && OOM_TEXT.test(stderr));
}
