/**
 * The sandbox's syscall filter: a deny list of kernel attack surface a judged program never needs,
 * answered with EPERM (ENOSYS for clone3, so the C library falls back to clone, whose namespace
 * flags can be checked). Everything else is allowed, so every supported runtime (JVM and V8 threads,
 * mmap, futex, ...) runs unchanged.
 *
 * The BPF program is compiled on this machine, at first use, by libseccomp's Python binding
 * (Debian: python3-seccomp) for the native architecture (x86_64 or aarch64); libseccomp kills any
 * syscall made through another ABI (i386 int 0x80, x32), so the filter cannot be sidestepped that
 * way. The result is cached under the sandbox's work root, keyed by the policy and architecture.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Denied with EPERM. Names this libseccomp does not know on this architecture are skipped (listed). */
export const DENIED_SYSCALLS = [
  // tracing and reading other processes
  'ptrace',
  'process_vm_readv',
  'process_vm_writev',
  'pidfd_getfd',
  'process_madvise',
  'kcmp',
  // performance counters, eBPF, io_uring, userfaultfd: large, often-exploited kernel surfaces
  'perf_event_open',
  'bpf',
  'io_uring_setup',
  'io_uring_enter',
  'io_uring_register',
  'userfaultfd',
  // kernel keyrings
  'add_key',
  'keyctl',
  'request_key',
  // namespaces and mounts
  'unshare',
  'setns',
  'mount',
  'umount',
  'umount2',
  'pivot_root',
  'chroot',
  'move_mount',
  'open_tree',
  'fsopen',
  'fsconfig',
  'fsmount',
  'fspick',
  'mount_setattr',
  'listmount',
  'statmount',
  // kernel modules, reboot, kexec, swap, accounting, quotas
  'init_module',
  'finit_module',
  'delete_module',
  'kexec_load',
  'kexec_file_load',
  'reboot',
  'swapon',
  'swapoff',
  'acct',
  'quotactl',
  'quotactl_fd',
  // the host's clock, name, kernel log
  'settimeofday',
  'clock_settime',
  'clock_adjtime',
  'adjtimex',
  'sethostname',
  'setdomainname',
  'syslog',
  // raw I/O ports, obsolete or handle-based interfaces
  'iopl',
  'ioperm',
  'modify_ldt',
  'vhangup',
  'uselib',
  'ustat',
  'sysfs',
  '_sysctl',
  'lookup_dcookie',
  'nfsservctl',
  'name_to_handle_at',
  'open_by_handle_at',
  'fanotify_init',
  // NUMA page movement across processes
  'move_pages',
  'migrate_pages',
] as const;

/** Numbers of recent syscalls (identical on x86_64 and aarch64), for a libseccomp too old to name them. */
const UNIFIED_SYSCALL_NUMBERS: Record<string, number> = { statmount: 457, listmount: 458 };

/** Answered with ENOSYS: clone3 takes its flags in memory a filter cannot read; libc then uses clone. */
export const ENOSYS_SYSCALLS = ['clone3'] as const;

/** clone() with any of these (new namespaces) is refused. */
export const DENIED_CLONE_FLAGS = {
  CLONE_NEWTIME: 0x80,
  CLONE_NEWNS: 0x20000,
  CLONE_NEWCGROUP: 0x2000000,
  CLONE_NEWUTS: 0x4000000,
  CLONE_NEWIPC: 0x8000000,
  CLONE_NEWUSER: 0x10000000,
  CLONE_NEWPID: 0x20000000,
  CLONE_NEWNET: 0x40000000,
} as const;

/** personality() setting any of these (ASLR off, executable data, low mappings) is refused. */
export const DENIED_PERSONALITY_FLAGS = {
  ADDR_NO_RANDOMIZE: 0x0040000,
  MMAP_PAGE_ZERO: 0x0100000,
  ADDR_COMPAT_LAYOUT: 0x0200000,
  READ_IMPLIES_EXEC: 0x0400000,
  ADDR_LIMIT_32BIT: 0x0800000,
  ADDR_LIMIT_3GB: 0x8000000,
} as const;

// Reads the policy as JSON (argv[1]), writes raw BPF to argv[2], prints the skipped names as JSON.
const GENERATOR = `
import errno, json, sys
try:
    import seccomp
except ImportError:
    sys.stderr.write("python3-seccomp (libseccomp's Python binding) is not installed")
    sys.exit(3)
policy = json.loads(sys.argv[1])
f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
skipped = []
def rule(action, name, *args):
    try:
        f.add_rule(action, name, *args)
    except (RuntimeError, ValueError, OSError):
        # Newer than this libseccomp: syscalls added since Linux 5.1 share one number on every arch.
        number = policy["unified"].get(name)
        try:
            if number is None:
                raise ValueError(name)
            f.add_rule(action, number, *args)
        except (RuntimeError, ValueError, OSError):
            skipped.append(name)
for name in policy["eperm"]:
    rule(seccomp.ERRNO(errno.EPERM), name)
for name in policy["enosys"]:
    rule(seccomp.ERRNO(errno.ENOSYS), name)
for flag in policy["cloneFlags"]:
    rule(seccomp.ERRNO(errno.EPERM), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
for flag in policy["personalityFlags"]:
    rule(seccomp.ERRNO(errno.EPERM), "personality", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
with open(sys.argv[2], "wb") as out:
    f.export_bpf(out)
print(json.dumps({"arch": seccomp.system_arch(), "skipped": sorted(set(skipped))}))
`;

const PYTHON = '/usr/bin/python3';
const SUPPORTED_ARCHES = new Set(['x64', 'arm64']);

export class SeccompUnavailableError extends Error {
  constructor(message: string) {
    super(`${message}. The local sandbox needs a syscall filter: apt-get install -y python3 python3-seccomp (or use EXECUTOR=judge0).`);
    this.name = 'SeccompUnavailableError';
  }
}

export interface SeccompFilter {
  /** Path of the raw BPF program (struct sock_filter[]) the sandbox cell loads. */
  file: string;
  /** Denied names this kernel's libseccomp does not know here (they cannot be called either). */
  skipped: string[];
}

function policyJson(): string {
  return JSON.stringify({
    eperm: DENIED_SYSCALLS,
    enosys: ENOSYS_SYSCALLS,
    cloneFlags: Object.values(DENIED_CLONE_FLAGS),
    personalityFlags: Object.values(DENIED_PERSONALITY_FLAGS),
    unified: UNIFIED_SYSCALL_NUMBERS,
  });
}

/** Returns the cached filter for this policy and architecture, compiling it first if needed. */
export async function ensureSeccompFilter(cacheDir: string, python = PYTHON): Promise<SeccompFilter> {
  if (!SUPPORTED_ARCHES.has(process.arch))
    throw new SeccompUnavailableError(`the sandbox's syscall filter supports x86_64 and aarch64, not ${process.arch}`);
  const policy = policyJson();
  const key = createHash('sha256')
    .update(python)
    .update(GENERATOR)
    .update(policy)
    .update(process.arch)
    .update(os.release())
    .digest('hex')
    .slice(0, 16);
  await fsp.mkdir(cacheDir, { recursive: true, mode: 0o700 });
  const file = path.join(cacheDir, `seccomp-${process.arch}-${key}.bpf`);
  const meta = `${file}.json`;
  const cached = await fsp
    .readFile(meta, 'utf8')
    .then((text) => JSON.parse(text) as { skipped: string[] })
    .catch(() => undefined);
  if (cached && (await fsp.stat(file).catch(() => undefined))?.size) return { file, skipped: cached.skipped };

  const temp = `${file}.${process.pid}.tmp`;
  const printed = await new Promise<string>((resolve, reject) => {
    const child = execFile(python, ['-I', '-', policy, temp], { env: {}, timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new SeccompUnavailableError(`cannot compile the syscall filter with ${python}: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(GENERATOR);
  });
  const { skipped } = JSON.parse(printed) as { skipped: string[] };
  await fsp.rename(temp, file);
  await fsp.writeFile(meta, JSON.stringify({ skipped }));
  return { file, skipped };
}
