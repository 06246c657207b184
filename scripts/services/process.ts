/** Small helpers shared by the local service launchers: free ports, waiting for a port, stopping a child. */
import { ChildProcess, spawn, SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Waits until `port` accepts connections, failing early with the log tail if the process exits. */
export async function waitForPort(name: string, port: number, child: ChildProcess, logFile: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before listening on ${port}:\n${tail(logFile)}`);
    }
    if (await canConnect(port)) return;
    await sleep(250);
  }
  throw new Error(`${name} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms:\n${tail(logFile)}`);
}

/** Starts a long-running service with stdout/stderr appended to `logFile`. */
export function spawnService(command: string, args: string[], logFile: string, options: SpawnOptions = {}): ChildProcess {
  const out = fs.openSync(logFile, 'a');
  const child = spawn(command, args, { stdio: ['ignore', out, out], ...options });
  fs.closeSync(out);
  return child;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export async function stopProcess(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Kills at once, like a crash. */
export async function killProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

export function tail(file: string, lines = 40): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Polls `url` until it answers 2xx. Resolves undefined then, or with why it gave up: the child exited
 * (checked before every try, so a crash fails at once) or the deadline passed (with the last answer or error).
 */
export async function pollUntilOk(url: string, child: ChildProcess, timeoutMs: number, pollMs: number): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return `exited (${child.exitCode ?? child.signalCode})`;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return undefined;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(pollMs);
  }
  return `not ready at ${url} within ${timeoutMs} ms (last: ${last})`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** First existing path of `candidates`, or an error that says how to install it. */
export function findExecutable(candidates: string[], installHint: string): string {
  for (const candidate of candidates) if (fs.existsSync(candidate)) return candidate;
  throw new Error(`None of ${candidates.join(', ')} exists: ${installHint}`);
}
