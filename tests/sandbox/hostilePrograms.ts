/**
 * Programs that try to break out of, starve or outlive the sandbox, with what each must get.
 * `expect` lists acceptable run statuses ('exited-0' / 'exited-nonzero' split exits by code);
 * 'compile-error' means the compile step must fail (within its limits).
 */
import type { Language } from '../../worker/src/languages';

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
}

const PORT_PLACEHOLDER = '__PORT__';
export const withPort = (source: string, port: number) => source.split(PORT_PLACEHOLDER).join(String(port));

export const HOSTILE_PROGRAMS: HostileProgram[] = [
  { name: 'fork bomb (C)', language: 'c', source: '#include <unistd.h>\nint main(){for(;;)fork();}', expect: ['time-limit'] },
  { name: 'fork bomb (Python)', language: 'python', source: 'import os\nwhile True:\n    try: os.fork()\n    except OSError: pass', expect: ['time-limit'] },
  { name: 'thread bomb (C++)', language: 'cpp', source: '#include <thread>\n#include <vector>\nint main(){std::vector<std::thread> v; for(;;){ try { v.emplace_back([]{for(;;);}); } catch(...) {} }}', expect: ['time-limit', 'signaled', 'memory-limit'] },
  { name: 'memory bomb (Python)', language: 'python', source: 'x = []\nwhile True: x.append(bytearray(1 << 20))', expect: ['memory-limit'] },
  { name: 'memory bomb (C, touched)', language: 'c', source: '#include <stdlib.h>\n#include <string.h>\nint main(){for(;;){char*p=malloc(1<<20); if(p) memset(p,1,1<<20);}}', expect: ['memory-limit'] },
  { name: 'memory bomb (C++ vector)', language: 'cpp', source: '#include <vector>\nint main(){std::vector<long long> v; for(;;) v.push_back(1);}', expect: ['memory-limit'] },
  { name: 'memory bomb (JavaScript)', language: 'javascript', source: 'const a = []; for (;;) a.push(new Array(1e5).fill(1));', expect: ['memory-limit'] },
  { name: 'memory bomb (Java)', language: 'java', source: 'import java.util.*;public class Main{public static void main(String[] a){List<long[]> l=new ArrayList<>();for(;;)l.add(new long[1<<17]);}}', expect: ['memory-limit'], memoryLimitMb: 128 },
  { name: 'untouched huge mmap is not charged', language: 'c', source: '#include <stdlib.h>\n#include <stdio.h>\nint main(){char*p=malloc(1UL<<30); printf("%d\\n", p!=0);}', expect: ['exited-0'] },
  { name: 'infinite loop (C)', language: 'c', source: 'int main(){volatile int x=0; for(;;) x++;}', expect: ['time-limit'] },
  { name: 'infinite loop (Python)', language: 'python', source: 'while True: pass', expect: ['time-limit'] },
  { name: 'infinite loop (Java)', language: 'java', source: 'public class Main{public static void main(String[] a){long x=0;for(;;)x++;}}', expect: ['time-limit'], memoryLimitMb: 128 },
  { name: 'busy threads (C++)', language: 'cpp', source: '#include <thread>\nint main(){std::thread a([]{for(;;);}),b([]{for(;;);}); a.join();}', expect: ['time-limit'] },
  { name: 'sleep forever (Python)', language: 'python', source: 'import time\ntime.sleep(3600)', expect: ['time-limit'] },
  { name: 'pause forever (C)', language: 'c', source: '#include <unistd.h>\nint main(){for(;;) pause();}', expect: ['time-limit'] },
  { name: 'huge output (C)', language: 'c', source: '#include <stdio.h>\nint main(){for(;;) puts("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");}', expect: ['output-limit'] },
  { name: 'huge output (Python)', language: 'python', source: 'import sys\nwhile True: sys.stdout.write("y" * 65536)', expect: ['output-limit'] },
  { name: 'stderr flood', language: 'python', source: 'import sys\nwhile True: sys.stderr.write("e" * 65536)', expect: ['time-limit'] },
  { name: 'fill private /tmp', language: 'python', source: 'f = open("/tmp/fill", "wb")\nwhile True: f.write(b"z" * (1 << 20))', expect: ['exited-nonzero', 'output-limit', 'memory-limit'] },
  { name: 'write into its own code dir', language: 'python', source: 'open("/box/evil.txt", "w").write("x")', expect: ['exited-nonzero'] },
  { name: 'write outside its dir', language: 'python', source: 'open("/usr/evil.txt", "w").write("x")', expect: ['exited-nonzero'] },
  { name: 'overwrite /etc/passwd', language: 'c', source: '#include <stdio.h>\nint main(){FILE*f=fopen("/etc/passwd","w"); if(!f) return 3; fputs("x",f); return 0;}', expect: ['exited-nonzero'] },
  { name: 'read /etc/shadow', language: 'python', source: 'print(open("/etc/shadow").read())', expect: ['exited-nonzero'], stdoutMustNotMatch: /root:/ },
  { name: 'read other jobs', language: 'python', source: 'import os\nfor d in ["/tmp/grading-sandbox", "/tmp", "/box/.."]:\n    try: print(d, os.listdir(d))\n    except Exception as e: print(d, "denied")', expect: ['exited-0'], stdoutMustNotMatch: /jobs|secret-other-job/ },
  { name: 'list host processes', language: 'python', source: 'import os\nprint(len([p for p in os.listdir("/proc") if p.isdigit()]))', expect: ['exited-0'], stdoutMustMatch: /^[1-5]\n$/ },
  { name: 'environment leak', language: 'python', source: 'import os\nprint(sorted(os.environ.items()))', expect: ['exited-0'], stdoutMustNotMatch: /SANDBOX_TEST_SECRET|PYENV|AWS_/ },
  { name: 'connect to loopback', language: 'python', source: 'import socket\ns = socket.create_connection(("127.0.0.1", __PORT__), timeout=1)\nprint("connected")', expect: ['exited-nonzero'], stdoutMustNotMatch: /connected/ },
  { name: 'connect beyond the host', language: 'c', source: '#include <sys/socket.h>\n#include <netinet/in.h>\n#include <arpa/inet.h>\nint main(){int s=socket(AF_INET,SOCK_STREAM,0); struct sockaddr_in a={0}; a.sin_family=AF_INET; a.sin_port=htons(80); inet_pton(AF_INET,"192.0.2.1",&a.sin_addr); return connect(s,(void*)&a,sizeof a)==0 ? 0 : 4;}', expect: ['exited-nonzero'] },
  { name: 'resolve a host name', language: 'python', source: 'import socket\nprint(socket.gethostbyname("example.com"))', expect: ['exited-nonzero'] },
  { name: 'kill its parent', language: 'python', source: 'import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nprint("still here")', expect: ['exited-0', 'signaled', 'exited-nonzero'] },
  { name: 'kill every process it can', language: 'c', source: '#include <signal.h>\nint main(){kill(-1, SIGKILL); return 0;}', expect: ['exited-0', 'signaled', 'exited-nonzero'] },
  { name: 'daemon that outlives the run', language: 'python', source: 'import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(3600)\n    os._exit(0)\nprint("parent done")', expect: ['exited-0'] },
  { name: 'become root', language: 'python', source: 'import os\nos.setuid(0)\nprint("root")', expect: ['exited-nonzero'], stdoutMustNotMatch: /root/ },
  { name: 'nested user namespace', language: 'python', source: 'import subprocess\nsubprocess.run(["unshare", "-r", "id"], check=True)', expect: ['exited-nonzero'] },
  { name: 'infinite recursion (C)', language: 'c', source: 'int f(int x){ volatile char buf[1024]; buf[0]=x; return f(x+1)+buf[0]; }\nint main(){ return f(0); }', expect: ['signaled', 'memory-limit'] },
  { name: 'deep recursion (Python)', language: 'python', source: 'import sys\nsys.setrecursionlimit(10**8)\ndef f(n): return f(n+1) + 1\nf(0)', expect: ['signaled', 'memory-limit', 'exited-nonzero', 'time-limit'] },
  { name: 'include /dev/zero', language: 'c', source: '#include "/dev/zero"\nint main(){}', expect: ['compile-error'] },
  { name: 'include /dev/random', language: 'cpp', source: '#include "/dev/random"\nint main(){}', expect: ['compile-error'] },
  { name: 'preprocessor explosion', language: 'cpp', source: '#define A(x) x x x x x x x x x x\n#define B(x) A(A(A(A(A(A(A(A(A(A(x))))))))))\nint main(){ B(int a = 1;) }', expect: ['compile-error'] },
  { name: 'template recursion', language: 'cpp', source: 'template<class T> struct D { typedef typename D<D<T> >::t t; };\nint main(){ D<int>::t x; }', expect: ['compile-error'] },
  { name: 'large input read', language: 'python', source: 'import sys\ndata = sys.stdin.buffer.read()\nprint(len(data))', input: 'a'.repeat(8 * 1024 * 1024), expect: ['exited-0'], stdoutMustMatch: /^8388608\n$/ },
];
