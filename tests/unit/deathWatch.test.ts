/** npm run local tells the person at the terminal when one of its parts dies on its own. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { noticeDeaths } from '../../scripts/services/deathWatch';

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('local stack: dead part notice', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'death-'));
  const logFile = path.join(dir, 'worker.log');
  fs.writeFileSync(logFile, 'starting\nworker failed to start: MQ_ENDPOINTS is required\n');
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('says which part died, how, and the end of its log', async () => {
    const lines: string[] = [];
    const child = spawn(process.execPath, ['-e', 'process.exit(3)']);
    let alive = true;
    const stop = noticeDeaths(
      [
        { name: 'worker', child, logFile },
        { name: 'ActiveMQ', logFile, alive: () => alive },
      ],
      (l) => lines.push(l),
      () => false,
      20,
    );
    try {
      await until(() => lines.join('\n').includes('worker exited'));
      alive = false;
      await until(() => lines.join('\n').includes('ActiveMQ is no longer running'));
    } finally {
      stop();
    }
    const text = lines.join('\n');
    assert.match(text, /!! worker exited unexpectedly \(exit code 3\)/);
    assert.match(text, / {3}\| worker failed to start: MQ_ENDPOINTS is required/);
    assert.match(text, /run npm run local again/);
    assert.equal(text.match(/ActiveMQ is no longer running/g)!.length, 1, 'said once');
  });

  it('stays quiet while everything is being stopped', async () => {
    const lines: string[] = [];
    const child = spawn(process.execPath, ['-e', 'process.exit(0)']);
    const exited = new Promise((r) => child.once('exit', r));
    const stop = noticeDeaths(
      [{ name: 'gateway', child, logFile }],
      (l) => lines.push(l),
      () => true,
    );
    await exited;
    stop();
    assert.deepEqual(lines, []);
  });
});
