/** A third-party client run as a child process that answers commands on stdin with lines on stdout. */
import { ChildProcess, spawn } from 'node:child_process';
import type { WorkerProcess } from '../helpers/workerHarness';

export class LineProcess {
  private readonly lines: string[] = [];
  private waiting?: () => void;
  private stderr = '';
  private constructor(private readonly child: ChildProcess) {
    let buffer = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        this.lines.push(buffer.slice(0, i));
        buffer = buffer.slice(i + 1);
      }
      this.waiting?.();
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    child.once('exit', () => this.waiting?.());
  }

  /** Starts the program and waits for its first line (`READY`). */
  static async start(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<LineProcess> {
    const client = new LineProcess(spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] }));
    const ready = await client.next(60_000);
    if (ready !== 'READY') throw new Error(`${command} did not start: ${ready}\n${client.stderr}`);
    return client;
  }

  /** The next line of output, or an error with the program's stderr if it exits first. */
  async next(timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!this.lines.length) {
      if (this.child.exitCode !== null || this.child.signalCode !== null)
        throw new Error(`client exited (${this.child.exitCode}): ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`no answer from the client within ${timeoutMs} ms; stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
        setTimeout(resolve, 200);
      });
    }
    return this.lines.shift()!;
  }

  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/** Waits until the worker has logged `msg` for this request (what it decided), so "nothing else came" can be checked without a sleep. */
export async function workerLogged(worker: WorkerProcess, requestId: string, msg: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const found = () =>
    worker
      .output()
      .split('\n')
      .some((l) => l.includes(`"msg":"${msg}"`) && l.includes(`"requestId":"${requestId}"`));
  while (!found()) {
    if (Date.now() > deadline) throw new Error(`worker did not log "${msg}" for ${requestId}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const DUPLICATE_LOGGED = 'duplicate delivery of a finished request: its result is already published';
