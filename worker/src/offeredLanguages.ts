/**
 * The languages the executor in use offers, with the names and versions it reports: Judge0's
 * GET /languages names ("Java (OpenJDK 13.0.1)"), or the sandbox's toolchain versions read from the
 * compilers themselves. The worker publishes them to the bucket for the gateway's /api/languages,
 * so the page never promises a version the executor does not run.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Executor } from './executors/port';
import { TOOLCHAINS } from './executors/sandbox/toolchains';
import {
  Language,
  LANGUAGE_IDS,
  LANGUAGES,
  OFFERED_LANGUAGES_KEY,
  OfferedLanguage,
  OfferedLanguagesDocument,
} from '../../core/src/languages';

const exec = promisify(execFile);

interface DescribesLanguages {
  languages(): OfferedLanguage[];
}

function describesLanguages(executor: Executor): executor is Executor & DescribesLanguages {
  return typeof (executor as Partial<DescribesLanguages>).languages === 'function';
}

export async function offeredLanguages(executor: Executor): Promise<OfferedLanguage[]> {
  if (describesLanguages(executor)) return executor.languages();
  return Promise.all(LANGUAGE_IDS.map((id) => sandboxLanguage(id)));
}

/** Name the sandbox's toolchain as Judge0 names its languages: "C (GCC 14.2.0)", "Python (3.13.5)". */
async function sandboxLanguage(id: Language): Promise<OfferedLanguage> {
  const toolchain = TOOLCHAINS[id];
  // Go compiles through /usr/bin/env (its cache variables): the tool is the first absolute path after the assignments.
  const command = toolchain.compile ?? toolchain.run({ memoryLimitMb: 256 });
  const binary = command[0] === '/usr/bin/env' ? (command.find((a, i) => i > 0 && a.startsWith('/')) ?? command[0]) : command[0];
  const version = await probeVersion(id, binary).catch(() => '');
  const family: Record<Language, (v: string) => string> = {
    python: (v) => `Python (${v})`,
    javascript: (v) => `JavaScript (Node.js ${v})`,
    c: (v) => `C (GCC ${v})`,
    cpp: (v) => `C++ (GCC ${v})`,
    java: (v) => `Java (OpenJDK ${v})`,
    go: (v) => `Go (${v})`,
    rust: (v) => `Rust (${v})`,
  };
  return version ? { id, name: family[id](version), version } : { id, name: LANGUAGES[id].label, version: '' };
}

async function probeVersion(id: Language, binary: string): Promise<string> {
  if (id === 'c' || id === 'cpp') return (await exec(binary, ['-dumpfullversion'], { timeout: 10_000 })).stdout.trim();
  if (id === 'java') {
    // javac prints "javac 17.0.13"; the runtime is the same JDK.
    const { stdout, stderr } = await exec(binary, ['-version'], { timeout: 10_000 });
    return /(\d+(?:\.\d+)+)/.exec(`${stdout} ${stderr}`)?.[1] ?? '';
  }
  if (id === 'go') return /go(\d+(?:\.\d+)+)/.exec((await exec(binary, ['version'], { timeout: 10_000 })).stdout)?.[1] ?? '';
  const { stdout, stderr } = await exec(binary, ['--version'], { timeout: 10_000 });
  return /(\d+(?:\.\d+)+)/.exec(`${stdout} ${stderr}`)?.[1] ?? '';
}

export async function offeredLanguagesDocument(executor: Executor, now = new Date()): Promise<OfferedLanguagesDocument> {
  return { executor: executor.name, languages: await offeredLanguages(executor), publishedAt: now.toISOString() };
}

/**
 * Publishes the document now and every `everyMs` (results/ may expire by lifecycle rule); failures
 * are logged, never fatal. Returns a function that stops the timer.
 */
export function publishOfferedLanguages(
  executor: Executor,
  put: (json: string) => Promise<unknown>,
  log: (level: 'info' | 'warn', message: string, fields?: Record<string, unknown>) => void,
  everyMs = 6 * 60 * 60 * 1000,
): () => void {
  const publish = async () => {
    try {
      const doc = await offeredLanguagesDocument(executor);
      await put(JSON.stringify(doc));
      log('info', 'published the executor languages', { key: OFFERED_LANGUAGES_KEY, languages: doc.languages.map((l) => l.name) });
    } catch (error) {
      log('warn', 'could not publish the executor languages', { error: (error as Error).message });
    }
  };
  void publish();
  const timer = setInterval(() => void publish(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
