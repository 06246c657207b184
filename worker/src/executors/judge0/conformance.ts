/**
 * The Judge0 conformance run (`grading-stack judge0-check`): grades small programs through a real
 * Judge0 with the worker's own adapter and grading engine, one row per language, and reports which
 * verdicts came out as the local sandbox would give them. Operators run it after `pulumi up`.
 */
import { gradeSubmission } from '../../grading/engine';
import type { Verdict } from '../../../../core/src/contracts/result';
import type { Language } from '../../../../core/src/languages';
import type { CheckerProgram, TestSet } from '../../problems/testSet';
import type { Judge0Executor } from './index';

// prettier-ignore
export const CHECKS = [
  'AC', 'WA', 'CE', 'RE-segfault', 'TLE', 'MLE', 'OLE', 'libm', 'large-output', 'batch-20', 'checker', 'interactive',
] as const;
export type CheckName = (typeof CHECKS)[number];

interface Check {
  source: string;
  expect: Verdict;
  cases?: Array<{ input: string; expected: string }>;
  timeLimitMs?: number;
  memoryLimitMb?: number;
  outputLimitBytes?: number;
  /** A testlib checker (checker.cpp) or interactor (interactor.cpp) the problem brings. */
  program?: { kind: 'checker' | 'interactor'; source: string };
}

const SUM_CASE = [{ input: '2 3\n', expected: '5\n' }];
const LARGE = 3_000_000; // under Judge0's default MAX_MAX_FILE_SIZE (4096 KB), over its default MAX_FILE_SIZE (1024 KB)
const BATCH = Array.from({ length: 20 }, (_, i) => ({ input: `${i} ${i * 7}\n`, expected: `${i * 8}\n` }));

/** The programs, per language; a missing entry is "n/a" (no compile step, no libm). */
const PROGRAMS: Record<Language, Partial<Record<CheckName, Check>>> = {
  c: {
    AC: { source: '#include <stdio.h>\nint main(){long a,b; scanf("%ld %ld",&a,&b); printf("%ld\\n",a+b); return 0;}', expect: 'AC' },
    WA: { source: '#include <stdio.h>\nint main(){long a,b; scanf("%ld %ld",&a,&b); printf("%ld\\n",a+b+1); return 0;}', expect: 'WA' },
    CE: { source: 'int main(){ return missing; }', expect: 'CE' },
    'RE-segfault': { source: 'int main(){ volatile int *p = 0; return *p; }', expect: 'RE' },
    TLE: { source: 'int main(){ volatile unsigned long x = 0; for(;;) x++; }', expect: 'TLE', timeLimitMs: 1000 },
    MLE: {
      source:
        '#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\nint main(){ for(;;){ char *p = malloc(1 << 20); if (!p) { fputs("Cannot allocate memory", stderr); return 3; } memset(p, 1, 1 << 20);} }',
      expect: 'MLE',
      memoryLimitMb: 64,
    },
    OLE: {
      source: "#include <stdio.h>\nint main(){ for (long i = 0; i < 8000000; i++) putchar('x'); return 0; }",
      expect: 'OLE',
      outputLimitBytes: 1 << 20,
    },
    libm: {
      source:
        '#include <math.h>\n#include <stdio.h>\nint main(){ double x; if (scanf("%lf", &x) != 1) return 1; printf("%.3f\\n", sqrt(x) + cbrt(x)); return 0; }',
      expect: 'AC',
      cases: [{ input: '8\n', expected: '4.828\n' }],
    },
    'large-output': {
      source: `#include <stdio.h>\nint main(){ for (int i = 0; i < ${LARGE}; i++) putchar('x'); putchar('\\n'); return 0; }`,
      expect: 'AC',
      cases: [{ input: '', expected: `${'x'.repeat(LARGE)}\n` }],
    },
  },
  cpp: {
    AC: { source: '#include <iostream>\nint main(){ long a, b; std::cin >> a >> b; std::cout << a + b << "\\n"; }', expect: 'AC' },
    WA: { source: '#include <iostream>\nint main(){ long a, b; std::cin >> a >> b; std::cout << a - b << "\\n"; }', expect: 'WA' },
    CE: { source: 'int main() { return x; }', expect: 'CE' },
    'RE-segfault': { source: 'int main(){ volatile int *p = nullptr; return *p; }', expect: 'RE' },
    TLE: { source: 'int main(){ volatile unsigned long x = 0; for(;;) x++; }', expect: 'TLE', timeLimitMs: 1000 },
    MLE: {
      source:
        '#include <vector>\n#include <cstring>\nint main(){ std::vector<char*> v; for(;;){ char *p = new char[1 << 20]; std::memset(p, 1, 1 << 20); v.push_back(p);} }',
      expect: 'MLE',
      memoryLimitMb: 64,
    },
    OLE: {
      source: "#include <cstdio>\nint main(){ for (long i = 0; i < 8000000; i++) std::putchar('x'); }",
      expect: 'OLE',
      outputLimitBytes: 1 << 20,
    },
    libm: {
      // <cmath> through libstdc++, and a C++17 feature (GCC 9 defaults to gnu++14).
      source:
        '#include <cmath>\n#include <cstdio>\n#include <optional>\nint main(){ double x; if (std::scanf("%lf", &x) != 1) return 1; std::optional<double> r = std::sqrt(x) + std::cbrt(x); std::printf("%.3f\\n", *r); }',
      expect: 'AC',
      cases: [{ input: '8\n', expected: '4.828\n' }],
    },
    'large-output': {
      source: `#include <string>\n#include <cstdio>\nint main(){ std::string s(${LARGE}, 'x'); std::puts(s.c_str()); }`,
      expect: 'AC',
      cases: [{ input: '', expected: `${'x'.repeat(LARGE)}\n` }],
    },
  },
  python: {
    AC: { source: 'a, b = map(int, input().split())\nprint(a + b)', expect: 'AC' },
    WA: { source: 'a, b = map(int, input().split())\nprint(a * b)', expect: 'WA' },
    'RE-segfault': { source: 'import ctypes\nctypes.string_at(0)', expect: 'RE' },
    TLE: { source: 'while True:\n    pass', expect: 'TLE', timeLimitMs: 1000 },
    MLE: { source: 'x = []\nwhile True:\n    x.append(bytearray(1 << 20))', expect: 'MLE', memoryLimitMb: 64 },
    OLE: { source: 'import sys\nfor _ in range(80):\n    sys.stdout.write("x" * 100000)', expect: 'OLE', outputLimitBytes: 1 << 20 },
    'large-output': {
      source: `import sys\nsys.stdout.write("x" * ${LARGE} + "\\n")`,
      expect: 'AC',
      cases: [{ input: '', expected: `${'x'.repeat(LARGE)}\n` }],
    },
  },
  javascript: {
    AC: {
      source: 'const [a, b] = require("fs").readFileSync(0, "utf8").trim().split(/\\s+/).map(Number);\nconsole.log(a + b);',
      expect: 'AC',
    },
    WA: { source: 'console.log(0);', expect: 'WA' },
    'RE-segfault': { source: 'process.kill(process.pid, "SIGSEGV");', expect: 'RE' },
    TLE: { source: 'for (;;) {}', expect: 'TLE', timeLimitMs: 1000 },
    MLE: { source: 'const a = [];\nfor (;;) a.push(new Array(1e5).fill(1.5));', expect: 'MLE', memoryLimitMb: 64 },
    OLE: { source: 'process.stdout.write("x".repeat(8000000));', expect: 'OLE', outputLimitBytes: 1 << 20 },
    'large-output': {
      source: `process.stdout.write("x".repeat(${LARGE}) + "\\n");`,
      expect: 'AC',
      cases: [{ input: '', expected: `${'x'.repeat(LARGE)}\n` }],
    },
  },
  java: {
    AC: {
      source:
        'import java.util.*;\npublic class Main { public static void main(String[] a) { Scanner s = new Scanner(System.in); System.out.println(s.nextLong() + s.nextLong()); } }',
      expect: 'AC',
    },
    WA: { source: 'public class Main { public static void main(String[] a) { System.out.println(42); } }', expect: 'WA' },
    CE: { source: 'public class Main { public static void main(String[] a) { int x = "text"; } }', expect: 'CE' },
    'RE-segfault': {
      // Reading address 0 through Unsafe crashes the JVM (SIGSEGV, then abort).
      source:
        'import java.lang.reflect.Field;\npublic class Main { public static void main(String[] a) throws Exception { Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe"); f.setAccessible(true); ' +
        'sun.misc.Unsafe u = (sun.misc.Unsafe) f.get(null); System.out.println(u.getInt(0L)); } }',
      expect: 'RE',
    },
    TLE: {
      source:
        'public class Main { public static void main(String[] a) { long x = 0; while (true) { x++; if (x < 0) break; } System.out.println(x); } }',
      expect: 'TLE',
      timeLimitMs: 1000,
    },
    MLE: {
      source:
        'import java.util.*;\npublic class Main { public static void main(String[] a) { List<byte[]> l = new ArrayList<>(); while (true) l.add(new byte[1 << 20]); } }',
      expect: 'MLE',
      memoryLimitMb: 64,
    },
    OLE: {
      source:
        "public class Main { public static void main(String[] a) { StringBuilder b = new StringBuilder(); for (int i = 0; i < 8000000; i++) b.append('x'); System.out.print(b); } }",
      expect: 'OLE',
      outputLimitBytes: 1 << 20,
    },
    'large-output': {
      source: `public class Main { public static void main(String[] a) { System.out.println("x".repeat(${LARGE})); } }`,
      expect: 'AC',
      cases: [{ input: '', expected: `${'x'.repeat(LARGE)}\n` }],
    },
  },
  go: {
    AC: { source: 'package main\nimport "fmt"\nfunc main() { var a, b int64; fmt.Scan(&a, &b); fmt.Println(a + b) }', expect: 'AC' },
    WA: { source: 'package main\nimport "fmt"\nfunc main() { fmt.Println(0) }', expect: 'WA' },
    CE: { source: 'package main\nfunc main() { x := }', expect: 'CE' },
    'RE-segfault': { source: 'package main\nimport "fmt"\nfunc main() { var p *int; fmt.Println(*p) }', expect: 'RE' },
    TLE: { source: 'package main\nfunc main() { x := 0; for { x++ } }', expect: 'TLE', timeLimitMs: 1000 },
    MLE: {
      source:
        'package main\nimport "fmt"\nfunc main() { var all [][]byte; for { b := make([]byte, 1<<20); for i := range b { b[i] = 1 }; ' +
        'all = append(all, b); if len(all) < 0 { fmt.Println(len(all)) } } }',
      expect: 'MLE',
      memoryLimitMb: 64,
    },
    OLE: {
      source:
        'package main\nimport ("bufio"; "os")\nfunc main() { w := bufio.NewWriter(os.Stdout); ' +
        "for i := 0; i < 8000000; i++ { w.WriteByte('x') }; w.Flush() }",
      expect: 'OLE',
      outputLimitBytes: 1 << 20,
    },
  },
  rust: {
    AC: {
      source:
        'use std::io::Read;\nfn main() { let mut s = String::new(); std::io::stdin().read_to_string(&mut s).unwrap(); ' +
        'let v: Vec<i64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect(); println!("{}", v[0] + v[1]); }',
      expect: 'AC',
    },
    WA: { source: 'fn main() { println!("0"); }', expect: 'WA' },
    CE: { source: 'fn main() { let x: i32 = "text"; }', expect: 'CE' },
    'RE-segfault': {
      source: 'fn main() { let p: *const i32 = std::ptr::null(); println!("{}", unsafe { std::ptr::read_volatile(p) }); }',
      expect: 'RE',
    },
    TLE: {
      source: 'fn main() { let mut x: u64 = 0; loop { unsafe { std::ptr::write_volatile(&mut x, x + 1) } } }',
      expect: 'TLE',
      timeLimitMs: 1000,
    },
    MLE: {
      source: 'fn main() { let mut all: Vec<Vec<u8>> = Vec::new(); loop { all.push(vec![1u8; 1 << 20]); if all.is_empty() { break; } } }',
      expect: 'MLE',
      memoryLimitMb: 64,
    },
    OLE: {
      source:
        'use std::io::Write;\nfn main() { let out = std::io::stdout(); let mut w = std::io::BufWriter::new(out.lock()); ' +
        'for _ in 0..8000000 { w.write_all(b"x").unwrap(); } }',
      expect: 'OLE',
      outputLimitBytes: 1 << 20,
    },
  },
};
for (const language of Object.keys(PROGRAMS) as Language[]) {
  const ac = PROGRAMS[language].AC!;
  PROGRAMS[language]['batch-20'] = { source: ac.source, expect: 'AC', cases: BATCH };
}

/** Accepts when the output is a+b (the answer file is ignored): proves the checker, not a diff, decided. */
const SUM_CHECKER = `#include <cstdio>
int main(int argc, char **argv) {
  if (argc < 4) return 3;
  FILE *in = std::fopen(argv[1], "r"), *out = std::fopen(argv[2], "r");
  long a, b, c;
  if (!in || std::fscanf(in, "%ld %ld", &a, &b) != 2) return 3;
  if (!out || std::fscanf(out, "%ld", &c) != 1) { std::fputs("no number", stderr); return 2; }
  std::fprintf(stderr, "%s", c == a + b ? "ok" : "wrong sum");
  return c == a + b ? 0 : 1;
}
`;
/** Guess the number in 1..100 (the input), answering "<", ">" or "=" to "? y"; "! x" ends it. */
const GUESS_INTERACTOR = `#include <cstdio>
int main(int argc, char **argv) {
  FILE *in = argc > 1 ? std::fopen(argv[1], "r") : nullptr;
  long secret;
  if (!in || std::fscanf(in, "%ld", &secret) != 1) return 3;
  for (int asked = 0; asked <= 10; asked++) {
    char kind[2]; long y;
    if (std::scanf("%1s %ld", kind, &y) != 2) return 1;
    if (kind[0] == '!') return y == secret ? 0 : 1;
    std::printf("%c\\n", secret < y ? '<' : secret > y ? '>' : '=');
    std::fflush(stdout);
  }
  return 1;
}
`;
const GUESS_CASE = [{ input: '37\n', expected: '' }];
PROGRAMS.cpp.checker = { source: PROGRAMS.cpp.AC!.source, expect: 'AC', program: { kind: 'checker', source: SUM_CHECKER } };
PROGRAMS.python.checker = { source: PROGRAMS.python.AC!.source, expect: 'AC', program: { kind: 'checker', source: SUM_CHECKER } };
PROGRAMS.cpp.interactive = {
  source:
    '#include <cstdio>\nint main(){ long lo = 1, hi = 100; for(;;){ long m = (lo + hi) / 2; ' +
    'std::printf("? %ld\\n", m); std::fflush(stdout); char c[2]; if (std::scanf("%1s", c) != 1) return 0; ' +
    "if (c[0] == '=') { std::printf(\"! %ld\\n\", m); std::fflush(stdout); return 0; } if (c[0] == '<') hi = m - 1; else lo = m + 1; } }",
  expect: 'AC',
  cases: GUESS_CASE,
  program: { kind: 'interactor', source: GUESS_INTERACTOR },
};
PROGRAMS.python.interactive = {
  source:
    'lo, hi = 1, 100\nwhile True:\n    m = (lo + hi) // 2\n    print("?", m, flush=True)\n    c = input().strip()\n' +
    '    if c == "=":\n        print("!", m, flush=True)\n        break\n' +
    '    if c == "<":\n        hi = m - 1\n    else:\n        lo = m + 1\n',
  expect: 'AC',
  cases: GUESS_CASE,
  program: { kind: 'interactor', source: GUESS_INTERACTOR },
};

export interface CheckOutcome {
  language: Language;
  check: CheckName;
  result: 'pass' | 'FAIL' | 'n/a';
  detail?: string;
}

export async function runConformance(
  executor: Judge0Executor,
  languages: Language[],
  opts: { parallel?: number; onResult?: (o: CheckOutcome) => void } = {},
): Promise<CheckOutcome[]> {
  const work: Array<() => Promise<CheckOutcome>> = [];
  for (const language of languages) {
    for (const check of CHECKS) {
      const spec = PROGRAMS[language][check];
      if (!spec) {
        work.push(async () => ({ language, check, result: 'n/a' }));
        continue;
      }
      work.push(() => runCheck(executor, language, check, spec));
    }
  }
  const outcomes: CheckOutcome[] = new Array(work.length);
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, opts.parallel ?? 3) }, async () => {
    while (next < work.length) {
      const i = next++;
      outcomes[i] = await work[i]();
      opts.onResult?.(outcomes[i]);
    }
  });
  await Promise.all(lanes);
  return outcomes;
}

async function runCheck(executor: Judge0Executor, language: Language, check: CheckName, spec: Check): Promise<CheckOutcome> {
  if (!executor.resolved(language))
    return { language, check, result: 'FAIL', detail: 'this Judge0 offers no such language (GET /languages)' };
  const cases = (spec.cases ?? SUM_CASE).map((c, i) => ({ index: i + 1, input: c.input, expected: c.expected, weight: 1, sample: true }));
  const testSet: TestSet = {
    cases,
    checker: { type: 'whitespace' },
    outputLimitBytes: spec.outputLimitBytes,
    version: `judge0-check-${language}-${check}`,
  };
  if (spec.program) {
    const file = `${spec.program.kind}.cpp`;
    const program: CheckerProgram = { language: 'cpp', files: new Map([[file, spec.program.source]]), sourceFile: file };
    if (spec.program.kind === 'checker') testSet.checkerProgram = program;
    else testSet.interactorProgram = program;
  }
  try {
    const { result } = await gradeSubmission({
      request: {
        requestId: `judge0-check-${language}-${check}`,
        language,
        timeLimit: spec.timeLimitMs ?? 5000,
        memoryLimit: spec.memoryLimitMb ?? 256,
      },
      source: spec.source,
      testSet,
      executor,
    });
    const verdict = result.result?.verdict;
    if (verdict === spec.expect) return { language, check, result: 'pass' };
    const firstBad = result.result?.testResults.find((t) => t.status !== spec.expect);
    const why = [firstBad?.message, result.result?.compileOutput?.slice(0, 200)].filter(Boolean).join(' | ');
    return {
      language,
      check,
      result: 'FAIL',
      detail: `expected ${spec.expect}, got ${verdict}${why ? ` (${why.replace(/\s+/g, ' ').slice(0, 300)})` : ''}`,
    };
  } catch (error) {
    return { language, check, result: 'FAIL', detail: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

/** The table operators read: one row per language, one column per check. */
export function formatTable(outcomes: CheckOutcome[], languages: Language[]): string {
  const header = ['language', ...CHECKS];
  const rows = languages.map((language) => [
    language,
    ...CHECKS.map((check) => outcomes.find((o) => o.language === language && o.check === check)?.result ?? '?'),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
