/**
 * How each language compiles and runs inside the sandbox: the one table to edit when a language or
 * compiler flag changes. Paths are absolute inside the sandbox, where /box is the job's directory.
 */
import type { Language } from '../../languages';

export interface Toolchain {
  /** File name of the source inside /box. */
  sourceFile: string;
  /** Compile command, or undefined for interpreted languages. */
  compile?: string[];
  /** Run command. */
  run(limits: { memoryLimitMb: number }): string[];
  /** Extra memory the cgroup allows above the limit (runtime overhead that is not the program's). */
  memoryHeadroomMb: number;
  /** Extra processes/threads the runtime itself needs. */
  pids: number;
}

export const TOOLCHAINS: Record<Language, Toolchain> = {
  python: {
    sourceFile: 'main.py',
    run: () => ['/usr/bin/python3', '-S', '-B', 'main.py'],
    memoryHeadroomMb: 0,
    pids: 8,
  },
  javascript: {
    sourceFile: 'main.js',
    run: ({ memoryLimitMb }) => ['/usr/bin/node', `--max-old-space-size=${Math.max(16, memoryLimitMb)}`, '--stack-size=65500', 'main.js'],
    // V8 reserves address space and a few threads beyond the heap.
    memoryHeadroomMb: 32,
    pids: 16,
  },
  c: {
    sourceFile: 'main.c',
    compile: ['/usr/bin/gcc', '-O2', '-std=c17', '-pipe', '-o', 'main', 'main.c', '-lm'],
    run: () => ['./main'],
    memoryHeadroomMb: 0,
    pids: 16,
  },
  cpp: {
    sourceFile: 'main.cpp',
    compile: ['/usr/bin/g++', '-O2', '-std=c++17', '-pipe', '-o', 'main', 'main.cpp'],
    run: () => ['./main'],
    memoryHeadroomMb: 0,
    pids: 16,
  },
  java: {
    // The public class must be Main (as in most judges).
    sourceFile: 'Main.java',
    compile: ['/usr/bin/javac', '-J-Xmx384m', '-J-XX:+UseSerialGC', '-J-XX:TieredStopAtLevel=1', '-encoding', 'UTF-8', 'Main.java'],
    // -Xmx is the limit; the cgroup allows JVM overhead (metaspace, code cache) on top, so a
    // program is judged on its heap like on Codeforces/AtCoder, not on the JVM's own footprint.
    run: ({ memoryLimitMb }) => ['/usr/bin/java', `-Xmx${memoryLimitMb}m`, '-Xss64m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-XX:CICompilerCount=1', '-Xshare:auto', '-cp', '.', 'Main'],
    memoryHeadroomMb: 160,
    pids: 48,
  },
};

/** Limits for the compile step (compile bombs meet these). */
export const COMPILE_LIMITS = { timeLimitMs: 15_000, wallLimitMs: 30_000, memoryLimitMb: 768, outputLimitBytes: 64 * 1024, pids: 64 };
