/**
 * Programs that try to break out of, starve, outlive or spy on the sandbox, with what each must get.
 * `expect` lists acceptable run statuses ('exited-0' / 'exited-nonzero' split exits by code);
 * 'compile-error' means the compile step must fail (within its limits). The suite also checks every
 * program's output, the result and execution.log for the worker's canary secrets and host paths.
 */
import type { Language } from '../../core/src/languages';

export type Expectation = 'exited-0' | 'exited-nonzero' | 'signaled' | 'time-limit' | 'memory-limit' | 'output-limit' | 'compile-error';

export interface HostileProgram {
  name: string;
  language: Language;
  source: string;
  expect: Expectation[];
  /** Extra check on stdout (e.g. nothing leaked). */
  stdoutMustNotMatch?: RegExp;
  stdoutMustMatch?: RegExp;
  input?: string;
  memoryLimitMb?: number;
  /** CPU ms per case (default 700, 2000 for Java, 300 when only TLE is expected). */
  timeLimitMs?: number;
  /** stdout bytes per case (default 64 KiB). */
  outputLimitBytes?: number;
  /** Number of hidden cases (default 1), each with input `input` (or a per-case secret when `harvest`). */
  cases?: number;
  /** An input harvester: cases carry secret inputs and answers that must not reach the result. */
  harvest?: boolean;
  /** Runs only on this architecture (raw syscall numbers, instructions). */
  arch?: string;
}

const C_SYSCALL_PROLOGUE =
  '#define _GNU_SOURCE\n#include <errno.h>\n#include <stdio.h>\n#include <string.h>\n#include <unistd.h>\n#include <sched.h>\n#include <signal.h>\n#include <sys/syscall.h>\n';

/** A C program that makes one syscall (valid arguments where that matters) and says whether the filter refused it. */
function deniedSyscall(name: string, call: string, setup = ''): HostileProgram {
  return {
    name: `${name} is refused (C)`,
    language: 'c',
    source: `${C_SYSCALL_PROLOGUE}${setup}\nint main(void){ pid_t self = getpid(); errno = 0; long r = ${call}; if (r == 0 && getppid() == self) _exit(0); printf("%s %ld %s\\n", r == -1 && errno == EPERM ? "denied" : "allowed", r, strerror(errno)); return 0; }`,
    expect: ['exited-0'],
    stdoutMustMatch: /^denied /,
  };
}

// Readers of every process's environment and command line, and of the mount table, in each language.
const READ_EVERY_PROC_C = `#include <stdio.h>
#include <dirent.h>
#include <ctype.h>
int main(void){ DIR *d = opendir("/proc"); struct dirent *e; int n = 0; static char buf[1 << 16];
  const char *names[] = {"environ", "cmdline", "cwd/..", "root/etc/hostname"};
  while ((e = readdir(d))) { if (!isdigit((unsigned char)e->d_name[0])) continue;
    for (int k = 0; k < 4; k++) { char p[300]; snprintf(p, sizeof p, "/proc/%s/%s", e->d_name, names[k]);
      FILE *f = fopen(p, "rb"); if (!f) { printf("%s denied\\n", p); continue; }
      size_t r = fread(buf, 1, sizeof buf, f); fclose(f); printf("%s: ", p);
      for (size_t i = 0; i < r; i++) putchar(buf[i] ? buf[i] : ' '); putchar('\\n'); n++; } }
  printf("pids read:%d\\n", n); return 0; }`;
const READ_EVERY_PROC_PY = `import os
for pid in [p for p in os.listdir('/proc') if p.isdigit()] + ['self', 'thread-self']:
    for name in ('environ', 'cmdline', 'mountinfo', 'cgroup', 'status', 'maps'):
        try:
            print(pid, name, open(f'/proc/{pid}/{name}', 'rb').read().replace(b'\\0', b' ')[:20000])
        except OSError as e:
            print(pid, name, 'denied', e.errno)
print('pids read')`;
const READ_EVERY_PROC_JS = `const fs = require('fs');
for (const pid of fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).concat(['self'])) {
  for (const name of ['environ', 'cmdline', 'mountinfo', 'cgroup']) {
    try { console.log(pid, name, fs.readFileSync('/proc/' + pid + '/' + name, 'latin1').split('\\0').join(' ')); }
    catch (e) { console.log(pid, name, 'denied', e.code); }
  }
}
console.log('pids read', JSON.stringify(process.env), process.execPath, process.cwd());`;
const READ_EVERY_PROC_JAVA = `import java.nio.file.*;
public class Main { public static void main(String[] a) throws Exception {
  try (DirectoryStream<Path> ds = Files.newDirectoryStream(Paths.get("/proc"))) {
    for (Path p : ds) { if (!p.getFileName().toString().matches("\\\\d+")) continue;
      for (String n : new String[]{"environ", "cmdline", "mountinfo"}) {
        try { System.out.println(p + "/" + n + ": " + new String(Files.readAllBytes(p.resolve(n))).replace('\\0', ' ')); }
        catch (Exception e) { System.out.println(p + "/" + n + " denied"); } } } }
  System.out.println("pids read " + System.getenv() + " " + System.getProperties());
} }`;
const READ_EVERY_PROC_CPP = `#include <dirent.h>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
int main() { DIR *d = opendir("/proc"); dirent *e;
  while ((e = readdir(d))) { std::string pid = e->d_name; if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    for (const char *n : {"environ", "cmdline", "mountinfo", "cgroup"}) { std::ifstream f("/proc/" + pid + "/" + n, std::ios::binary);
      if (!f) { std::cout << pid << " " << n << " denied\\n"; continue; }
      std::stringstream s; s << f.rdbuf(); std::string t = s.str(); for (char &c : t) if (!c) c = ' ';
      std::cout << pid << " " << n << ": " << t << "\\n"; } }
  std::cout << "pids read\\n"; }`;

// Echo-the-input harvesters: print the input (and hint it through stderr and the exit code).
const HARVEST: Record<Language, string> = {
  python: 'import sys\ndata = sys.stdin.read()\nsys.stdout.write(data)\nsys.stderr.write(data)\nsys.exit(1 + ord(data[0]) % 100)',
  c: '#include <stdio.h>\nint main(void){ char b[256] = {0}; size_t n = fread(b, 1, 255, stdin); fwrite(b, 1, n, stdout); fputs(b, stderr); return 1 + b[0] % 100; }',
  cpp: '#include <iostream>\n#include <string>\nint main(){ std::string s, all; while (std::getline(std::cin, s)) all += s + "\\n"; std::cout << all; std::cerr << all; return 1 + all[0] % 100; }',
  javascript:
    'const d = require("fs").readFileSync(0, "utf8"); process.stdout.write(d); process.stderr.write(d); process.exitCode = 1 + d.charCodeAt(0) % 100;',
  java: 'import java.io.*;\npublic class Main { public static void main(String[] a) throws Exception { String d = new String(System.in.readAllBytes()); System.out.print(d); System.err.print(d); System.out.flush(); System.exit(1 + d.charAt(0) % 100); } }',
  go: 'package main\nimport ("io"; "os")\nfunc main() { d, _ := io.ReadAll(os.Stdin); os.Stdout.Write(d); os.Stderr.Write(d); os.Exit(1 + int(d[0]) % 100) }',
  rust:
    'use std::io::{Read, Write};\nfn main() { let mut d = Vec::new(); std::io::stdin().read_to_end(&mut d).unwrap(); ' +
    'std::io::stdout().write_all(&d).unwrap(); std::io::stderr().write_all(&d).unwrap(); std::process::exit(1 + (d[0] as i32) % 100); }',
};

const PORT_PLACEHOLDER = '__PORT__';
export const withPort = (source: string, port: number) => source.split(PORT_PLACEHOLDER).join(String(port));

export const HOSTILE_PROGRAMS: HostileProgram[] = [
  { name: 'fork bomb (C)', language: 'c', source: '#include <unistd.h>\nint main(){for(;;)fork();}', expect: ['time-limit'] },
  {
    name: 'fork bomb (Python)',
    language: 'python',
    source: 'import os\nwhile True:\n    try: os.fork()\n    except OSError: pass',
    expect: ['time-limit'],
  },
  {
    name: 'thread bomb (C++)',
    language: 'cpp',
    source:
      '#include <thread>\n#include <vector>\nint main(){std::vector<std::thread> v; for(;;){ try { v.emplace_back([]{for(;;);}); } catch(...) {} }}',
    expect: ['time-limit', 'signaled', 'memory-limit'],
  },
  {
    name: 'memory bomb (Python)',
    language: 'python',
    source: 'x = []\nwhile True: x.append(bytearray(1 << 20))',
    expect: ['memory-limit'],
  },
  {
    name: 'memory bomb (C, touched)',
    language: 'c',
    source: '#include <stdlib.h>\n#include <string.h>\nint main(){for(;;){char*p=malloc(1<<20); if(p) memset(p,1,1<<20);}}',
    expect: ['memory-limit'],
  },
  {
    name: 'memory bomb (C++ vector)',
    language: 'cpp',
    source: '#include <vector>\nint main(){std::vector<long long> v; for(;;) v.push_back(1);}',
    expect: ['memory-limit'],
  },
  {
    name: 'memory bomb (JavaScript)',
    language: 'javascript',
    source: 'const a = []; for (;;) a.push(new Array(1e5).fill(1));',
    expect: ['memory-limit'],
  },
  {
    name: 'memory bomb (Java)',
    language: 'java',
    source:
      'import java.util.*;public class Main{public static void main(String[] a){List<long[]> l=new ArrayList<>();for(;;)l.add(new long[1<<17]);}}',
    expect: ['memory-limit'],
    memoryLimitMb: 128,
  },
  {
    name: 'untouched huge mmap is not charged',
    language: 'c',
    source: '#include <stdlib.h>\n#include <stdio.h>\nint main(){char*p=malloc(1UL<<30); printf("%d\\n", p!=0);}',
    expect: ['exited-0'],
  },
  { name: 'infinite loop (C)', language: 'c', source: 'int main(){volatile int x=0; for(;;) x++;}', expect: ['time-limit'] },
  { name: 'infinite loop (Python)', language: 'python', source: 'while True: pass', expect: ['time-limit'] },
  {
    name: 'infinite loop (Java)',
    language: 'java',
    source: 'public class Main{public static void main(String[] a){long x=0;for(;;)x++;}}',
    expect: ['time-limit'],
    memoryLimitMb: 128,
  },
  {
    name: 'busy threads (C++)',
    language: 'cpp',
    source: '#include <thread>\nint main(){std::thread a([]{for(;;);}),b([]{for(;;);}); a.join();}',
    expect: ['time-limit'],
  },
  { name: 'sleep forever (Python)', language: 'python', source: 'import time\ntime.sleep(3600)', expect: ['time-limit'] },
  { name: 'pause forever (C)', language: 'c', source: '#include <unistd.h>\nint main(){for(;;) pause();}', expect: ['time-limit'] },
  {
    name: 'huge output (C)',
    language: 'c',
    source: '#include <stdio.h>\nint main(){for(;;) puts("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");}',
    expect: ['output-limit'],
  },
  {
    name: 'huge output (Python)',
    language: 'python',
    source: 'import sys\nwhile True: sys.stdout.write("y" * 65536)',
    expect: ['output-limit'],
  },
  { name: 'stderr flood', language: 'python', source: 'import sys\nwhile True: sys.stderr.write("e" * 65536)', expect: ['time-limit'] },
  {
    name: 'fill private /tmp',
    language: 'python',
    source: 'f = open("/tmp/fill", "wb")\nwhile True: f.write(b"z" * (1 << 20))',
    expect: ['exited-nonzero', 'output-limit', 'memory-limit'],
  },
  { name: 'write into its own code dir', language: 'python', source: 'open("/box/evil.txt", "w").write("x")', expect: ['exited-nonzero'] },
  { name: 'write outside its dir', language: 'python', source: 'open("/usr/evil.txt", "w").write("x")', expect: ['exited-nonzero'] },
  {
    name: 'overwrite /etc/passwd',
    language: 'c',
    source: '#include <stdio.h>\nint main(){FILE*f=fopen("/etc/passwd","w"); if(!f) return 3; fputs("x",f); return 0;}',
    expect: ['exited-nonzero'],
  },
  {
    name: 'read /etc/shadow',
    language: 'python',
    source: 'print(open("/etc/shadow").read())',
    expect: ['exited-nonzero'],
    stdoutMustNotMatch: /root:/,
  },
  {
    name: 'read other jobs',
    language: 'python',
    source:
      'import os\nfor d in ["/tmp/grading-sandbox", "/tmp", "/box/.."]:\n    try: print(d, os.listdir(d))\n    except Exception as e: print(d, "denied")',
    expect: ['exited-0'],
    stdoutMustNotMatch: /jobs|secret-other-job/,
  },
  {
    name: 'list host processes',
    language: 'python',
    source: 'import os\nprint(len([p for p in os.listdir("/proc") if p.isdigit()]))',
    expect: ['exited-0'],
    stdoutMustMatch: /^[1-5]\n$/,
  },
  {
    name: 'environment leak',
    language: 'python',
    source: 'import os\nprint(sorted(os.environ.items()))',
    expect: ['exited-0'],
    stdoutMustNotMatch: /SANDBOX_TEST_SECRET|PYENV|AWS_/,
  },
  {
    name: 'connect to loopback',
    language: 'python',
    source: 'import socket\ns = socket.create_connection(("127.0.0.1", __PORT__), timeout=1)\nprint("connected")',
    expect: ['exited-nonzero'],
    stdoutMustNotMatch: /connected/,
  },
  {
    name: 'connect beyond the host',
    language: 'c',
    source:
      '#include <sys/socket.h>\n#include <netinet/in.h>\n#include <arpa/inet.h>\nint main(){int s=socket(AF_INET,SOCK_STREAM,0); struct sockaddr_in a={0}; a.sin_family=AF_INET; a.sin_port=htons(80); inet_pton(AF_INET,"192.0.2.1",&a.sin_addr); return connect(s,(void*)&a,sizeof a)==0 ? 0 : 4;}',
    expect: ['exited-nonzero'],
  },
  {
    name: 'resolve a host name',
    language: 'python',
    source: 'import socket\nprint(socket.gethostbyname("example.com"))',
    expect: ['exited-nonzero'],
  },
  {
    name: 'kill its parent',
    language: 'python',
    source: 'import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nprint("still here")',
    expect: ['exited-0', 'signaled', 'exited-nonzero'],
  },
  {
    name: 'kill every process it can',
    language: 'c',
    source: '#include <signal.h>\nint main(){kill(-1, SIGKILL); return 0;}',
    expect: ['exited-0', 'signaled', 'exited-nonzero'],
  },
  {
    name: 'daemon that outlives the run',
    language: 'python',
    source:
      'import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(3600)\n    os._exit(0)\nprint("parent done")',
    expect: ['exited-0'],
  },
  // --- nothing of one run reaches the next (cases of one program run one after another in the same sandbox cell) ---
  {
    name: 'SysV shared memory left for the next case (C)',
    language: 'c',
    source:
      '#include <stdio.h>\n#include <string.h>\n#include <sys/shm.h>\nint main(void){ int id = shmget(0x5eed, 4096, 0);\n' +
      '  if (id >= 0) { printf("found %s\\n", (char *)shmat(id, 0, SHM_RDONLY)); return 0; }\n' +
      '  id = shmget(0x5eed, 4096, IPC_CREAT | 0666); if (id < 0) { puts("cannot create"); return 0; }\n' +
      '  strcpy(shmat(id, 0, 0), "left by an earlier case"); puts("planted"); return 0; }',
    expect: ['exited-0'],
    cases: 3,
    stdoutMustMatch: /planted/,
    stdoutMustNotMatch: /found/,
  },
  {
    name: 'abstract socket daemon left for the next case (Python)',
    language: 'python',
    source:
      'import os, socket, time\ns = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n' +
      'try:\n    s.connect("\\0grading-leak")\n    print("found", s.recv(64))\nexcept OSError:\n' +
      '    if os.fork() == 0:\n        os.setsid()\n        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n' +
      '        srv.bind("\\0grading-leak")\n        srv.listen(8)\n        while True:\n' +
      '            c, _ = srv.accept()\n            c.send(b"left by an earlier case")\n' +
      '    time.sleep(0.2)\n    print("planted")',
    expect: ['exited-0'],
    cases: 3,
    stdoutMustMatch: /planted/,
    stdoutMustNotMatch: /found/,
  },
  {
    name: '/tmp file left for the next case (Python)',
    language: 'python',
    source:
      'import os\nif os.path.exists("/tmp/left"):\n    print("found", open("/tmp/left").read())\n' +
      'else:\n    open("/tmp/left", "w").write("left by an earlier case")\n    print("planted")',
    expect: ['exited-0'],
    cases: 3,
    stdoutMustMatch: /planted/,
    stdoutMustNotMatch: /found/,
  },
  {
    name: 'become root',
    language: 'python',
    source: 'import os\nos.setuid(0)\nprint("root")',
    expect: ['exited-nonzero'],
    stdoutMustNotMatch: /root/,
  },
  {
    name: 'nested user namespace',
    language: 'python',
    source: 'import subprocess\nsubprocess.run(["unshare", "-r", "id"], check=True)',
    expect: ['exited-nonzero'],
  },
  {
    name: 'infinite recursion (C)',
    language: 'c',
    source: 'int f(int x){ volatile char buf[1024]; buf[0]=x; return f(x+1)+buf[0]; }\nint main(){ return f(0); }',
    expect: ['signaled', 'memory-limit'],
  },
  {
    name: 'deep recursion (Python)',
    language: 'python',
    source: 'import sys\nsys.setrecursionlimit(10**8)\ndef f(n): return f(n+1) + 1\nf(0)',
    expect: ['signaled', 'memory-limit', 'exited-nonzero', 'time-limit'],
  },
  { name: 'include /dev/zero', language: 'c', source: '#include "/dev/zero"\nint main(){}', expect: ['compile-error'] },
  { name: 'include /dev/random', language: 'cpp', source: '#include "/dev/random"\nint main(){}', expect: ['compile-error'] },
  {
    name: 'preprocessor explosion',
    language: 'cpp',
    source: '#define A(x) x x x x x x x x x x\n#define B(x) A(A(A(A(A(A(A(A(A(A(x))))))))))\nint main(){ B(int a = 1;) }',
    expect: ['compile-error'],
  },
  {
    name: 'template recursion',
    language: 'cpp',
    source: 'template<class T> struct D { typedef typename D<D<T> >::t t; };\nint main(){ D<int>::t x; }',
    expect: ['compile-error'],
  },
  {
    name: 'large input read',
    language: 'python',
    source: 'import sys\ndata = sys.stdin.buffer.read()\nprint(len(data))',
    input: 'a'.repeat(8 * 1024 * 1024),
    expect: ['exited-0'],
    stdoutMustMatch: /^8388608\n$/,
  },

  // --- the worker's environment, command lines, mounts and tools stay invisible ---
  {
    name: 'environ, cmdline, cwd and root of every pid (C)',
    language: 'c',
    source: READ_EVERY_PROC_C,
    expect: ['exited-0'],
    stdoutMustMatch: /pids read/,
  },
  {
    name: 'environ, cmdline, mountinfo, cgroup, maps of every pid (Python)',
    language: 'python',
    source: READ_EVERY_PROC_PY,
    expect: ['exited-0'],
    stdoutMustMatch: /pids read/,
  },
  {
    name: 'environ, cmdline, mountinfo of every pid and its own env (JavaScript)',
    language: 'javascript',
    source: READ_EVERY_PROC_JS,
    expect: ['exited-0'],
    stdoutMustMatch: /pids read/,
  },
  {
    name: 'environ, cmdline, mountinfo of every pid, getenv, properties (Java)',
    language: 'java',
    source: READ_EVERY_PROC_JAVA,
    expect: ['exited-0'],
    stdoutMustMatch: /pids read/,
    timeLimitMs: 3000,
    memoryLimitMb: 128,
  },
  {
    name: 'environ, cmdline, mountinfo, cgroup of every pid (C++)',
    language: 'cpp',
    source: READ_EVERY_PROC_CPP,
    expect: ['exited-0'],
    stdoutMustMatch: /pids read/,
  },
  {
    name: 'PID 1 environment and memory are not readable',
    language: 'python',
    source:
      'for f in ("environ", "mem", "stack", "syscall", "auxv"):\n    try:\n        open("/proc/1/" + f, "rb").read(64)\n        print(f, "readable")\n    except OSError as e:\n        print(f, "denied", e.errno)',
    expect: ['exited-0'],
    stdoutMustNotMatch: /readable/,
  },
  {
    name: 'mount table names no host path',
    language: 'python',
    source: 'print(open("/proc/self/mountinfo").read())\nprint(open("/proc/1/mountinfo").read())',
    expect: ['exited-0'],
    stdoutMustMatch: /\/box/,
    stdoutMustNotMatch: /jobs|grading-sandbox|hostile-|\/work\/|\/sys\/fs\/cgroup|\/home\//,
  },
  {
    name: '/usr/local is empty',
    language: 'python',
    source: 'import os\nprint(sorted(os.listdir("/usr/local")))',
    expect: ['exited-0'],
    stdoutMustMatch: /^\[\]\n$/,
  },
  {
    name: 'no inherited descriptors beyond stdio',
    language: 'python',
    source: 'import os\nprint(sorted(int(f) for f in os.listdir("/proc/self/fd")))',
    expect: ['exited-0'],
    stdoutMustMatch: /^\[0, 1, 2, 3\]\n$/,
  },
  {
    name: 'no /sys, no host devices',
    language: 'python',
    source: 'import os\nprint(os.path.exists("/sys/fs/cgroup"), sorted(os.listdir("/dev")))',
    expect: ['exited-0'],
    stdoutMustMatch: /^False /,
  },
  {
    name: 'read the kernel log',
    language: 'c',
    source:
      '#include <stdio.h>\n#include <sys/klog.h>\nint main(void){ char b[4096]; int r = klogctl(3, b, sizeof b); printf("%s\\n", r < 0 ? "denied" : "read"); return 0; }',
    expect: ['exited-0'],
    stdoutMustMatch: /^denied/,
  },
  {
    name: 'environ through a shell (JavaScript child_process)',
    language: 'javascript',
    source:
      'const { execSync } = require("child_process");\ntry { console.log(execSync("cat /proc/1/environ /proc/*/environ; env; ls -la /usr/local /proc/1/root/", { encoding: "latin1", stdio: ["ignore", "pipe", "pipe"] })); } catch (e) { console.log("failed", String(e.stdout)); }',
    expect: ['exited-0'],
  },
  {
    name: 'include PID 1 environ at compile time',
    language: 'c',
    source: '#include "/proc/1/environ"\nint main(void){ return 0; }',
    expect: ['compile-error'],
  },
  // g++ reads proc files as empty (their size is 0): either way nothing of the host may show.
  {
    name: 'include the mount table at compile time',
    language: 'cpp',
    source: '#include "/proc/self/mountinfo"\nint main(){}',
    expect: ['compile-error', 'exited-0'],
  },
  // --- kernel attack surface refused by the seccomp filter ---
  deniedSyscall(
    'perf_event_open',
    'syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0)',
    '#include <linux/perf_event.h>\nstatic struct perf_event_attr attr = { .type = PERF_TYPE_SOFTWARE, .size = sizeof(struct perf_event_attr), .config = PERF_COUNT_SW_CPU_CLOCK, .exclude_kernel = 1 };',
  ),
  deniedSyscall('io_uring_setup', 'syscall(SYS_io_uring_setup, 8, params)', 'static char params[256];'),
  deniedSyscall('add_key', 'syscall(SYS_add_key, "user", "k", "v", 1, -2)'),
  deniedSyscall('keyctl', 'syscall(SYS_keyctl, 0, -2, 1)'),
  deniedSyscall('request_key', 'syscall(SYS_request_key, "user", "k", 0, -2)'),
  deniedSyscall('ptrace of PID 1', 'syscall(SYS_ptrace, 16, 1, 0, 0)'),
  deniedSyscall('ptrace traceme', 'syscall(SYS_ptrace, 0, 0, 0, 0)'),
  deniedSyscall('process_vm_readv of PID 1', 'syscall(SYS_process_vm_readv, 1, 0, 0, 0, 0, 0)'),
  deniedSyscall('bpf', 'syscall(SYS_bpf, 0, 0, 0)'),
  deniedSyscall('userfaultfd', 'syscall(SYS_userfaultfd, 0)'),
  deniedSyscall('unshare a user namespace', 'syscall(SYS_unshare, CLONE_NEWUSER)'),
  deniedSyscall('clone into a new user namespace', 'syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)'),
  deniedSyscall('setns', 'syscall(SYS_setns, 0, 0)'),
  deniedSyscall('mount a tmpfs', 'syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, 0)'),
  deniedSyscall('fsopen', 'syscall(SYS_fsopen, "tmpfs", 0)'),
  deniedSyscall('personality without ASLR', 'syscall(SYS_personality, 0x0040000)'),
  deniedSyscall('pidfd_getfd', 'syscall(SYS_pidfd_getfd, 0, 0, 0)'),
  { ...deniedSyscall('modify_ldt', 'syscall(SYS_modify_ldt, 0, 0, 0)'), arch: 'x64' },
  {
    name: 'clone3 answers ENOSYS, threads still work (C)',
    language: 'c',
    source: `${C_SYSCALL_PROLOGUE}#include <pthread.h>\nstatic void *run(void *x) { return x; }\nint main(void){ long r = syscall(SYS_clone3, 0, 0); int e = errno; pthread_t t; int ok = pthread_create(&t, 0, run, 0) == 0 && pthread_join(t, 0) == 0; printf("%ld %s %d\\n", r, strerror(e), ok); return 0; }`,
    expect: ['exited-0'],
    stdoutMustMatch: /^-1 Function not implemented 1/,
  },
  {
    name: 'ptrace and add_key through ctypes (Python)',
    language: 'python',
    source:
      'import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nfor name, nr, args in (("ptrace", 101, (16, 1, 0, 0)), ("add_key", 248, (b"user", b"k", b"v", 1, -2)), ("perf_event_open", 298, (0, 0, -1, -1, 0)), ("io_uring_setup", 425, (8, 0))):\n    r = libc.syscall(nr, *args)\n    print(name, r, ctypes.get_errno())',
    expect: ['exited-0'],
    stdoutMustMatch: /ptrace -1 1\nadd_key -1 1\nperf_event_open -1 1\nio_uring_setup -1 1\n/,
    arch: 'x64',
  },
  {
    name: 'i386 syscall through int 0x80 is killed',
    language: 'c',
    source: 'int main(void){ long r; __asm__ volatile ("int $0x80" : "=a"(r) : "a"(20L)); return r > 0 ? 0 : 1; }',
    expect: ['signaled'],
    arch: 'x64',
  },
  {
    name: 'x32 syscall is killed',
    language: 'c',
    source: `${C_SYSCALL_PROLOGUE}int main(void){ return syscall(0x40000000 | SYS_getpid) > 0 ? 0 : 1; }`,
    expect: ['signaled'],
    arch: 'x64',
  },
  {
    name: 'kill PID 1',
    language: 'c',
    source: '#include <signal.h>\n#include <stdio.h>\nint main(void){ printf("%d\\n", kill(1, SIGKILL)); return 0; }',
    expect: ['exited-0'],
    stdoutMustMatch: /^-1\n$/,
  },
  {
    name: 'setuid binaries do not raise privileges',
    language: 'python',
    source:
      'import subprocess\nfor cmd in (["su", "-c", "id"], ["sudo", "id"], ["mount", "-t", "tmpfs", "x", "/tmp"]):\n    try:\n        print(subprocess.run(cmd, capture_output=True, timeout=2).returncode)\n    except Exception as e:\n        print("failed", type(e).__name__)',
    expect: ['exited-0'],
    stdoutMustNotMatch: /^0$/m,
  },
  // --- output floods (invalid UTF-8) and many cases ---
  {
    name: 'invalid UTF-8 flood (C)',
    language: 'c',
    source:
      '#include <string.h>\n#include <unistd.h>\nint main(void){ static char b[65536]; memset(b, 0xff, sizeof b); for (;;) write(1, b, sizeof b); }',
    expect: ['output-limit'],
  },
  {
    name: 'lone lead bytes flood (C++)',
    language: 'cpp',
    source: '#include <cstdio>\nint main(){ for (;;) std::fputc(0xc3, stdout); }',
    expect: ['output-limit'],
  },
  {
    name: 'invalid UTF-8 flood (Python)',
    language: 'python',
    source: 'import sys\nwhile True: sys.stdout.buffer.write(b"\\xfe\\xff" * 32768)',
    expect: ['output-limit'],
  },
  {
    name: 'invalid UTF-8 flood (JavaScript)',
    language: 'javascript',
    source: 'const fs = require("fs"); const b = Buffer.alloc(65536, 0xff); for (;;) fs.writeSync(1, b);',
    expect: ['output-limit'],
  },
  {
    name: 'invalid UTF-8 flood (Java)',
    language: 'java',
    source:
      'public class Main { public static void main(String[] a) { byte[] b = new byte[65536]; java.util.Arrays.fill(b, (byte) 0xff); for (;;) System.out.write(b, 0, b.length); } }',
    expect: ['output-limit'],
    timeLimitMs: 3000,
    memoryLimitMb: 128,
  },
  {
    name: 'exactly the output limit of 0xFF on many cases (C)',
    language: 'c',
    source:
      '#include <string.h>\n#include <unistd.h>\nint main(void){ static char b[65536]; memset(b, 0xff, sizeof b); for (int i = 0; i < 4; i++) write(1, b, sizeof b); return 0; }',
    expect: ['exited-0'],
    cases: 12,
    outputLimitBytes: 4 * 65536,
  },
  {
    name: 'floods past the limit on every one of 20 cases (Python)',
    language: 'python',
    source: 'import sys\nwhile True: sys.stdout.buffer.write(bytes(range(128, 256)) * 512)',
    expect: ['output-limit'],
    cases: 20,
  },
  {
    name: 'control characters and escapes flood the log (Python)',
    language: 'python',
    source:
      'import sys\nsys.stdout.write("\\x1b]0;owned\\x07\\r\\x1b[2J" * 1000)\nsys.stderr.write("\\x1b[31mcase 1: AC\\r\\u202e" * 1000)',
    expect: ['exited-0'],
    cases: 3,
  },
  // --- input harvesters: the hidden cases must not come back in the result ---
  ...(Object.keys(HARVEST) as Language[]).map((language): HostileProgram => ({
    name: `echo-the-input harvester (${language})`,
    language,
    source: HARVEST[language],
    expect: ['exited-nonzero'],
    cases: 4,
    harvest: true,
    ...(language === 'java' ? { timeLimitMs: 3000, memoryLimitMb: 128 } : {}),
  })),
  // --- more ways to starve or outlive the run, in the languages not yet covered ---
  {
    name: 'environ and cmdline of every pid (Go)',
    language: 'go',
    source:
      'package main\nimport ("fmt"; "os"; "strconv")\nfunc main() { ds, _ := os.ReadDir("/proc"); for _, d := range ds { if _, e := strconv.Atoi(d.Name()); e != nil { continue }; ' +
      'for _, n := range []string{"environ", "cmdline", "mountinfo"} { b, e := os.ReadFile("/proc/" + d.Name() + "/" + n); fmt.Printf("%s %s %q %v\\n", d.Name(), n, b, e) } }; ' +
      'fmt.Println(os.Environ()); fmt.Println("pids read") }',
    expect: ['exited-0'],
    stdoutMustMatch: /pids read/,
  },
  {
    name: 'PID 1 environment (Rust)',
    language: 'rust',
    source:
      'fn main() { for f in ["/proc/1/environ", "/proc/1/mem", "/proc/1/root/etc/hostname"] { match std::fs::read(f) { Ok(b) => println!("{} readable {:?}", f, b), ' +
      'Err(e) => println!("{} denied {}", f, e) } } for (k, v) in std::env::vars() { println!("{}={}", k, v); } }',
    expect: ['exited-0'],
    stdoutMustNotMatch: /readable/,
  },
  {
    name: 'goroutine and thread bomb (Go)',
    language: 'go',
    source:
      'package main\nimport ("runtime"; "syscall")\nfunc main() { for { go func() { runtime.LockOSThread(); for { syscall.Getpid() } }() } }',
    expect: ['time-limit', 'memory-limit', 'exited-nonzero', 'signaled'],
  },
  {
    name: 'thread bomb and fork bomb (Rust)',
    language: 'rust',
    source:
      'fn main() { loop { let _ = std::thread::Builder::new().spawn(|| loop {}); let _ = std::process::Command::new("/proc/self/exe").spawn(); } }',
    expect: ['time-limit', 'memory-limit', 'exited-nonzero', 'signaled'],
  },
  {
    name: 'fork bomb (JavaScript)',
    language: 'javascript',
    source: 'const { spawn } = require("child_process"); for (;;) { try { spawn(process.execPath, ["-e", "for(;;);"]); } catch (e) {} }',
    expect: ['time-limit', 'memory-limit', 'exited-nonzero', 'signaled'],
  },
  // The JVM logs each failed pthread_create to stdout (unified logging), so a bomb may end on the output limit.
  {
    name: 'thread bomb (Java)',
    language: 'java',
    source:
      'public class Main { public static void main(String[] a) { for (;;) { try { new Thread(() -> { for (;;) {} }).start(); } catch (Throwable t) {} } } }',
    expect: ['time-limit', 'memory-limit', 'exited-nonzero', 'signaled', 'output-limit'],
    timeLimitMs: 2000,
    memoryLimitMb: 128,
  },
  {
    name: 'subprocess daemon (Java)',
    language: 'java',
    source:
      'public class Main { public static void main(String[] a) throws Exception { new ProcessBuilder("/bin/sleep", "3600").start(); System.out.println("started"); } }',
    expect: ['exited-0', 'exited-nonzero'],
    timeLimitMs: 3000,
    memoryLimitMb: 128,
  },
  { name: 'infinite loop (JavaScript)', language: 'javascript', source: 'for (;;) {}', expect: ['time-limit'] },
  {
    name: 'write the read-only box (C++)',
    language: 'cpp',
    source: '#include <fstream>\nint main(){ std::ofstream f("/box/main"); return f ? 0 : 3; }',
    expect: ['exited-nonzero'],
  },
];
