/**
 * Child process of memory.test.ts: grades one submission whose every case prints the whole output
 * limit of 0xFF bytes (invalid UTF-8), through the real sandbox and engine, then prints the verdicts
 * and this process's peak RSS (VmHWM) as JSON on its last line.
 * argv: workRoot uidBase cases outputLimitBytes
 */
import { readFileSync } from 'node:fs';
import { createSandboxExecutor } from '../../worker/src/executors/sandbox';
import { gradeSubmission } from '../../worker/src/grading/engine';
import { buildTestSet } from '../../worker/src/problems/testSet';

// Reads how many bytes to print, then prints that many 0xFF bytes.
const FLOOD_C = `#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(void) {
  static char buf[1 << 16];
  char line[32] = {0};
  if (read(0, line, sizeof line - 1) <= 0) return 1;
  long left = atol(line);
  memset(buf, 0xff, sizeof buf);
  while (left > 0) {
    ssize_t w = write(1, buf, left < (long)sizeof buf ? left : (long)sizeof buf);
    if (w <= 0) return 2;
    left -= w;
  }
  return 0;
}`;

async function main(): Promise<void> {
  const [workRoot, uidBase, caseCount, limit] = process.argv.slice(2);
  const cases = Number(caseCount);
  const files = new Map<string, string>([['manifest.json', JSON.stringify({ outputLimit: Number(limit) })]]);
  for (let n = 1; n <= cases; n++) {
    files.set(`${n}.in`, `${limit}\n`);
    files.set(`${n}.out`, '7\n');
  }
  const executor = await createSandboxExecutor({ concurrency: 2, workRoot, uidBase: Number(uidBase), uidCount: 2 });
  const { result, log } = await gradeSubmission({
    request: { requestId: 'flood', language: 'c', timeLimit: 5000, memoryLimit: 64 },
    source: FLOOD_C,
    testSet: buildTestSet(files),
    executor,
  });
  await executor.close();
  const peakKb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
  const printed = [...log.matchAll(/stdout \((\d+) bytes\)/g)].map((m) => Number(m[1]));
  console.log(JSON.stringify({ verdicts: result.result?.testResults.map((t) => t.status), printed, peakMb: Math.round(peakKb / 1024) }));
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
