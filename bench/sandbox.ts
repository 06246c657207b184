/**
 * Sandbox overhead: wall time of one test-case run in the local sandbox (bubblewrap + cgroup +
 * rlimits + setpriv, as the executor runs it) against the same program spawned bare from Node.
 * Runs are interleaved (bare, sandbox, sandbox, bare, ...) so drift affects both sides alike.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { detectCgroupVersion, prepareCgroups } from '../worker/src/executors/sandbox/cgroup';
import { runInSandbox } from '../worker/src/executors/sandbox/runner';
import { hrMs, median, percentile, round, table } from './stats';

const RUNS = Number(process.env.BENCH_SANDBOX_RUNS ?? 200);
const UID = 62900;

function bare(command: string[], cwd: string, stdin: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], command.slice(1), { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout.resume();
    child.stderr.resume();
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command.join(' ')} exited ${code}`))));
    child.stdin.on('error', () => undefined); // /bin/true exits before reading
    child.stdin.end(stdin);
  });
}

export async function sandboxBench(): Promise<string> {
  const version = detectCgroupVersion();
  await prepareCgroups(version);
  const box = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-sandbox-'));
  fs.chmodSync(box, 0o755);
  fs.writeFileSync(path.join(box, 'main.c'), '#include <stdio.h>\nint main(void){long long a,b;if(scanf("%lld %lld",&a,&b)==2)printf("%lld\\n",a+b);return 0;}\n');
  execFileSync('/usr/bin/gcc', ['-O2', '-o', path.join(box, 'main'), path.join(box, 'main.c')]);
  const programs = [
    { name: '/bin/true', command: ['/bin/true'] },
    { name: 'python3 -c pass', command: ['/usr/bin/python3', '-S', '-B', '-c', 'pass'] },
    { name: 'C (a+b)', command: ['./main'] },
  ];
  const limits = { timeLimitMs: 2000, wallLimitMs: 5000, memoryLimitMb: 256, memoryHeadroomMb: 0, outputLimitBytes: 65536, pids: 16 };
  const times = programs.map(() => ({ bare: [] as number[], sandbox: [] as number[] }));
  try {
    for (let i = 0; i < RUNS + 5; i++) {
      for (const [p, program] of programs.entries()) {
        const sides: Array<'bare' | 'sandbox'> = i % 2 ? ['sandbox', 'bare'] : ['bare', 'sandbox'];
        for (const side of sides) {
          const start = process.hrtime.bigint();
          if (side === 'bare') await bare(program.command, box, '1 2\n');
          else {
            const result = await runInSandbox({ name: `bench-${process.pid}-${i}-${p}`, boxDir: box, writableBox: false, command: program.command, stdin: '1 2\n', uid: UID, limits, cgroupVersion: version });
            if (result.status !== 'exited' || result.exitCode !== 0) throw new Error(`${program.name} in the sandbox: ${result.status} ${result.exitCode} ${result.stderr}`);
          }
          // The first runs warm caches (page cache, Node's spawn path) and are not counted.
          if (i >= 5) times[p][side].push(hrMs(start));
        }
      }
    }
  } finally {
    fs.rmSync(box, { recursive: true, force: true });
  }
  const rows = programs.map((program, p) => {
    const b = times[p].bare;
    const s = times[p].sandbox;
    return [program.name, round(median(b)), round(percentile(b, 90)), round(median(s)), round(percentile(s, 90)), `${round(median(s) / median(b), 2)}x`, round(median(s) - median(b))];
  });
  return [
    `Sandbox overhead per test-case run (${RUNS} interleaved runs each, cgroup ${version}), wall ms`,
    table(['program', 'bare p50', 'bare p90', 'sandbox p50', 'sandbox p90', 'ratio p50', 'overhead p50'], rows),
  ].join('\n');
}
