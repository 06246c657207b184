/**
 * The sandbox's syscall filter as compiled on this machine: it checks the architecture first (so
 * another ABI cannot sidestep it), covers the denied syscalls, and the sandbox refuses to start
 * clearly when libseccomp's Python binding is missing. What programs get is in hostile.test.ts.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DENIED_SYSCALLS, ensureSeccompFilter, SeccompUnavailableError } from '../../worker/src/executors/sandbox/seccomp';

// linux/audit.h and linux/filter.h
const AUDIT_ARCH: Record<string, number> = { x64: 0xc000003e, arm64: 0xc00000b7 };
const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const SECCOMP_DATA_ARCH = 4;
const X32_SYSCALL_BIT = 0x40000000;

function instructions(bpf: Buffer) {
  return Array.from({ length: bpf.length / 8 }, (_, i) => ({ code: bpf.readUInt16LE(i * 8), k: bpf.readUInt32LE(i * 8 + 4) }));
}

describe('sandbox: seccomp filter', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seccomp-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it(`is compiled for this architecture (${process.arch}) and checks it before anything else`, async () => {
    const filter = await ensureSeccompFilter(dir);
    // Some names exist only on x86 (iopl, modify_ldt...): elsewhere they cannot be called at all.
    if (process.arch === 'x64') assert.deepEqual(filter.skipped, [], 'every denied syscall is known here');
    const code = instructions(fs.readFileSync(filter.file));
    assert.deepEqual(code[0], { code: BPF_LD_W_ABS, k: SECCOMP_DATA_ARCH }, 'first loads seccomp_data.arch');
    assert.deepEqual(code[1] && { code: code[1].code, k: code[1].k }, { code: BPF_JEQ_K, k: AUDIT_ARCH[process.arch] });
    if (process.arch === 'x64')
      assert.ok(
        code.some((i) => i.k === X32_SYSCALL_BIT),
        'x32 syscalls are told apart',
      );
    assert.ok(code.length > DENIED_SYSCALLS.length, `${code.length} instructions`);
  });

  it('is cached: the second call compiles nothing', async () => {
    const first = await ensureSeccompFilter(dir);
    const before = fs.statSync(first.file).mtimeMs;
    const second = await ensureSeccompFilter(dir);
    assert.equal(second.file, first.file);
    assert.equal(fs.statSync(second.file).mtimeMs, before);
  });

  it('fails clearly, naming the package, when libseccomp for Python is missing', async () => {
    const fakePython = path.join(dir, 'python-without-seccomp');
    fs.writeFileSync(
      fakePython,
      '#!/bin/sh\nexec /usr/bin/python3 -I -c "import sys; sys.modules[\'seccomp\'] = None; exec(sys.stdin.read())" "$@"\n',
      { mode: 0o755 },
    );
    await assert.rejects(ensureSeccompFilter(path.join(dir, 'other'), fakePython), (error: Error) => {
      assert.ok(error instanceof SeccompUnavailableError);
      assert.match(error.message, /libseccomp's Python binding\) is not installed/);
      return true;
    });
  });
});
