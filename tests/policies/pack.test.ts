/**
 * The policy pack as the Pulumi CLI starts it (`pulumi preview --policy-pack policies` runs
 * policies/index.ts): it must come up serving every rule (the SDK exits at start on a reserved or
 * invalid name, a bad config schema, or a second pack in the process) and print its gRPC port.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';

describe('CrossGuard policy pack (policies/index.ts)', function () {
  this.timeout(60_000);

  it('starts and serves its gRPC port', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../../policies/index.ts')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          stdout += d;
          const match = /^(\d+)\s*$/m.exec(stdout);
          if (match) resolve(Number(match[1]));
        });
        child.once('exit', (code) => reject(new Error(`the pack exited (${code}) before serving: ${stderr}`)));
      });
      assert.ok(port > 0 && port < 65536, `port ${port}`);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
