/**
 * The worker's memory does not grow with what programs print: a child process grades 30 cases that
 * each print the whole default output limit (16 MB) of 0xFF bytes, invalid UTF-8, through the real
 * sandbox and engine, and reports its peak RSS (VmHWM). A resource assertion, not a timing one.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_OUTPUT_LIMIT_BYTES } from '../../worker/src/grading/engine';

const PEAK_RSS_LIMIT_MB = 200;
const CASES = 30;

describe('sandbox: worker memory under output floods', function () {
  this.timeout(180_000);
  let workRoot: string;
  before(() => {
    workRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'flood-'));
    fs.chmodSync(workRoot, 0o711);
  });
  after(() => fs.rmSync(workRoot, { recursive: true, force: true }));

  it(`stays under ${PEAK_RSS_LIMIT_MB} MB peak RSS grading ${CASES} cases of ${DEFAULT_OUTPUT_LIMIT_BYTES} bytes of 0xFF each`, async () => {
    const script = path.join(__dirname, 'floodGrader.ts');
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--require', 'tsx/cjs', script, workRoot, '62400', String(CASES), String(DEFAULT_OUTPUT_LIMIT_BYTES)],
        { maxBuffer: 1 << 20 },
        (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)),
      );
    });
    const report = JSON.parse(stdout.trim().split('\n').pop()!) as { verdicts: string[]; printed: number[]; peakMb: number };
    assert.deepEqual(report.verdicts, Array(CASES).fill('WA'));
    assert.deepEqual(report.printed, Array(CASES).fill(DEFAULT_OUTPUT_LIMIT_BYTES), 'every case printed the whole limit');
    assert.ok(report.peakMb < PEAK_RSS_LIMIT_MB, `peak RSS ${report.peakMb} MB`);
  });
});
