/**
 * One "Multi-file program" submission (language 89) run to its end: what checkers, interactors and
 * their one-time compiles need on Judge0. Judge0 unpacks `additional_files` (a zip) into the box
 * (isolate_job.rb:82-110), runs `/bin/bash compile` when the zip has one, under the MAX_* limits with
 * its output in compile_output (isolate_job.rb:112-193), then `/bin/bash run` under the submission's
 * limits with stdin/stdout/stderr as for any program (isolate_job.rb:195-233). A project gets no
 * source_code (submission.rb:46-48). Each run is a fresh box: nothing survives between submissions.
 */
import { ExecutorUnavailableError } from '../port';
import { Judge0QueueFullError } from './errors';
import type { Judge0Http } from './http';
import { FIELDS, isFinal, isRetryableInternal, Judge0Submission, JUDGE0_STATUS } from './statuses';
import type { ClampedLimits } from './submissions';
import { zipStored } from './zip';

export interface ProjectRun {
  files: Record<string, string | Buffer>;
  stdin?: string;
  limits: ClampedLimits;
}

export interface ProjectResult {
  submission: Judge0Submission;
  stdout: Buffer;
  /** The first 8 KB of stderr. */
  stderr: string;
  stderrBytes: number;
  compileOutput: string;
  message: string;
}

export interface ProjectRunnerOptions {
  http: Judge0Http;
  projectId: () => number | undefined;
  sleep: (ms: number) => Promise<void>;
  pollInitialMs: number;
  pollMaxMs: number;
  /** How long one run may take end to end, ms. */
  deadlineMs: number;
  internalErrorRetries: number;
}

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const unb64 = (s: string | null | undefined) => (s ? Buffer.from(s, 'base64') : Buffer.alloc(0));

export class ProjectRunner {
  constructor(private readonly opts: ProjectRunnerOptions) {}

  /** Submits the project and polls until final; Internal Error is retried; throws ExecutorUnavailableError when Judge0 cannot. */
  async run(project: ProjectRun): Promise<ProjectResult> {
    const languageId = this.opts.projectId();
    if (languageId === undefined) throw new Error('this Judge0 offers no multi-file programs (language 89 with ENABLE_ADDITIONAL_FILES)');
    const deadline = Date.now() + this.opts.deadlineMs;
    const payload = {
      language_id: languageId,
      additional_files: b64(zipStored(project.files)),
      stdin: b64(project.stdin ?? ''),
      ...project.limits,
    };
    for (let attempt = 0; ; attempt++) {
      const submission = await this.poll(await this.create(payload, deadline), deadline);
      if (isRetryableInternal(submission.status.id) && attempt < this.opts.internalErrorRetries) continue;
      return {
        submission,
        stdout: unb64(submission.stdout),
        stderr: unb64(submission.stderr).subarray(0, 8192).toString('utf8'),
        stderrBytes: unb64(submission.stderr).length,
        compileOutput: unb64(submission.compile_output)
          .subarray(0, 64 * 1024)
          .toString('utf8'),
        message: unb64(submission.message).subarray(0, 1024).toString('utf8'),
      };
    }
  }

  private async create(payload: Record<string, unknown>, deadline: number): Promise<string> {
    for (let wait = 500; ; wait = Math.min(wait * 2, 8000)) {
      try {
        const answer = await this.opts.http.post<Record<string, unknown>>('/submissions?base64_encoded=true', payload);
        if (answer.status === 201 && typeof answer.body.token === 'string') return answer.body.token;
        throw new Error(`Judge0 refused a multi-file program: ${JSON.stringify(answer.body).slice(0, 300)}`);
      } catch (error) {
        if (!(error instanceof Judge0QueueFullError) || Date.now() + wait > deadline) throw error;
        await this.opts.sleep(wait);
      }
    }
  }

  private async poll(token: string, deadline: number): Promise<Judge0Submission> {
    let delay = this.opts.pollInitialMs;
    for (;;) {
      if (Date.now() > deadline)
        throw new ExecutorUnavailableError(`Judge0 did not finish multi-file program ${token} in time (stuck In Queue?)`, 5000);
      await this.opts.sleep(delay);
      delay = Math.min(delay * 1.5, this.opts.pollMaxMs);
      const s = await this.opts.http.get<Judge0Submission>(
        `/submissions/${encodeURIComponent(token)}?base64_encoded=true&fields=${FIELDS}`,
      );
      if (isFinal(s.status.id)) return s;
    }
  }
}

/** A project's run as a program's facts: exit code (bash passes the last command's on), signal, or why it did not finish. */
export function projectExit(s: Judge0Submission): {
  ended: 'exited' | 'signaled' | 'time-limit' | 'internal-error' | 'compile-error';
  exitCode: number | null;
} {
  const id = s.status.id;
  if (id === JUDGE0_STATUS.ACCEPTED || id === JUDGE0_STATUS.WRONG_ANSWER) return { ended: 'exited', exitCode: 0 };
  if (id === JUDGE0_STATUS.COMPILATION_ERROR) return { ended: 'compile-error', exitCode: null };
  if (id === JUDGE0_STATUS.TIME_LIMIT) return { ended: 'time-limit', exitCode: null };
  // NZEC: bash's exit status, the checker's own code or 128+N when a signal killed it (statuses.ts).
  if (id === JUDGE0_STATUS.NZEC) {
    const code = s.exit_code ?? -1;
    return code > 128 || code < 0 ? { ended: 'signaled', exitCode: null } : { ended: 'exited', exitCode: code };
  }
  if (id >= JUDGE0_STATUS.SIGSEGV && id <= JUDGE0_STATUS.RUNTIME_OTHER) return { ended: 'signaled', exitCode: null };
  return { ended: 'internal-error', exitCode: null };
}
