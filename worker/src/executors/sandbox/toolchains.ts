/**
 * How each language compiles and runs inside the sandbox: the one table to edit when a language or
 * compiler flag changes. Paths are absolute inside the sandbox, where /box is the job's directory.
 */
import type { Language } from '../../../../core/src/languages';

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
    run: ({ memoryLimitMb }) => [
      '/usr/bin/java',
      `-Xmx${memoryLimitMb}m`,
      '-Xss64m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-XX:CICompilerCount=1',
      '-Xshare:auto',
      '-cp',
      '.',
      'Main',
    ],
    memoryHeadroomMb: 160,
    pids: 48,
  },
  go: {
    // The box is writable only while compiling, so the build cache and GOPATH live in it; no cgo (a
    // static binary needs no C toolchain at run time). No -trimpath: it rebuilds the whole standard
    // library per submission (3 s, 23 MB of cache), and the only path it would hide is /box/main.go.
    sourceFile: 'main.go',
    compile: [
      '/usr/bin/env',
      'GOCACHE=/box/.go/cache',
      'GOPATH=/box/.go/path',
      'HOME=/box/.go',
      'CGO_ENABLED=0',
      'GO111MODULE=off',
      '/usr/bin/go',
      'build',
      '-o',
      'main',
      'main.go',
    ],
    run: () => ['./main'],
    // The Go runtime keeps a few MB of its own (scheduler, GC metadata) and starts threads per P and for the GC.
    memoryHeadroomMb: 16,
    pids: 32,
  },
  rust: {
    sourceFile: 'main.rs',
    compile: ['/usr/bin/rustc', '-O', '--edition', '2021', '-o', 'main', 'main.rs'],
    run: () => ['./main'],
    memoryHeadroomMb: 0,
    pids: 16,
  },
};

/** Limits for the compile step (compile bombs meet these). */
export const COMPILE_LIMITS = { timeLimitMs: 15_000, wallLimitMs: 30_000, memoryLimitMb: 768, outputLimitBytes: 64 * 1024, pids: 64 };
