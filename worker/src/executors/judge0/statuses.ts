/**
 * Judge0 CE status ids -> our run facts. Judge0 compares output itself only when given
 * expected_output; we never send it (checkers run in the worker), so 3 "Accepted" just means the
 * program exited 0. Judge0 has no memory-limit status: see inferMemoryLimit.
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

export interface Judge0Submission {
  token: string;
  status: { id: number; description: string };
  stdout: string | null;
  stderr: string | null;
  compile_output: string | null;
  message: string | null;
  /** seconds, as a decimal string */
  time: string | null;
  /** KB */
  memory: number | null;
  exit_code: number | null;
  exit_signal: number | null;
}

export const isFinal = (statusId: number) => statusId >= JUDGE0_STATUS.ACCEPTED;
export const isRetryableInternal = (statusId: number) => statusId === JUDGE0_STATUS.INTERNAL_ERROR || statusId === JUDGE0_STATUS.EXEC_FORMAT_ERROR;

const OOM_TEXT = /MemoryError|std::bad_alloc|OutOfMemoryError|JavaScript heap out of memory|Cannot allocate memory/;

/**
 * A run killed near its memory limit is MLE: SIGKILL (exit signal 9 / exit code 137) with memory
 * >= 90% of the limit, or an out-of-memory message from the runtime with a non-zero exit.
 */
export function inferMemoryLimit(s: Pick<Judge0Submission, 'exit_signal' | 'exit_code' | 'memory' | 'stderr'>, memoryLimitMb: number, stderrText: string): boolean {
  const nearLimit = (s.memory ?? 0) / 1024 >= memoryLimitMb * 0.9;
  const killed = s.exit_signal === 9 || s.exit_code === 137;
  return (killed && nearLimit) || ((s.exit_code ?? 0) !== 0 && OOM_TEXT.test(stderrText));
}

const SIGNAL_NAMES: Record<number, string> = { 6: 'SIGABRT', 8: 'SIGFPE', 9: 'SIGKILL', 11: 'SIGSEGV', 24: 'SIGXCPU', 25: 'SIGXFSZ' };

export function toRunOutcome(s: Judge0Submission, decoded: { stdout: string; stderr: string; message: string }, limits: { memoryLimitMb: number; outputLimitBytes: number }): RunOutcome {
  const base = {
    stdout: decoded.stdout,
    stderr: decoded.stderr.slice(0, 8192),
    timeMs: Math.round(Number(s.time ?? 0) * 1000),
    wallMs: Math.round(Number(s.time ?? 0) * 1000),
    memoryMb: Math.round(((s.memory ?? 0) / 1024) * 10) / 10,
    exitCode: s.exit_code,
    signal: s.exit_signal ? (SIGNAL_NAMES[s.exit_signal] ?? `SIG${s.exit_signal}`) : null,
  };
  const outcome = (status: RunStatus, message?: string): RunOutcome => ({ ...base, status, ...(message ? { message } : {}) });
  const id = s.status.id;
  if (Buffer.byteLength(decoded.stdout) > limits.outputLimitBytes) return outcome('output-limit', `output exceeded ${limits.outputLimitBytes} bytes`);
  switch (id) {
    case JUDGE0_STATUS.ACCEPTED:
    case JUDGE0_STATUS.WRONG_ANSWER:
      return { ...outcome('exited'), exitCode: 0 };
    case JUDGE0_STATUS.TIME_LIMIT:
      return outcome('time-limit', 'Judge0: Time Limit Exceeded');
    case JUDGE0_STATUS.SIGXFSZ:
      return { ...outcome('output-limit', 'Judge0: output file size limit (SIGXFSZ)'), signal: 'SIGXFSZ' };
    case JUDGE0_STATUS.SIGSEGV:
    case JUDGE0_STATUS.SIGFPE:
    case JUDGE0_STATUS.SIGABRT:
    case JUDGE0_STATUS.NZEC:
    case JUDGE0_STATUS.RUNTIME_OTHER: {
      if (inferMemoryLimit(s, limits.memoryLimitMb, decoded.stderr)) return outcome('memory-limit', `memory limit ${limits.memoryLimitMb} MB exceeded (inferred: Judge0 has no MLE status)`);
      const bySignal: Record<number, string> = { 7: 'SIGSEGV', 9: 'SIGFPE', 10: 'SIGABRT' };
      if (bySignal[id]) return { ...outcome('signaled'), signal: bySignal[id], exitCode: null };
      if (id === JUDGE0_STATUS.NZEC) return { ...outcome('exited'), exitCode: s.exit_code ?? 1 };
      return { ...outcome('signaled'), signal: base.signal ?? 'SIGKILL', exitCode: null };
    }
    default:
      return outcome('internal-error', `Judge0 status ${id} ${s.status.description}${decoded.message ? `: ${decoded.message}` : ''}`);
  }
}
