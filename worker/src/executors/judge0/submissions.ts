/**
 * What the adapter sends Judge0 for one test case: the language's flags, limits clamped to the
 * maxima GET /config_info reports (values above them are a 422, app/models/submission.rb:50-71), and
 * for Java/JavaScript a multi-file program whose run script passes the memory limit to the runtime.
 */
import type { Language } from '../../../../core/src/languages';
import type { ExecutionLimits } from '../port';
import type { ResolvedLanguage } from './catalog';
import { zipStored } from './zip';

/** The subset of GET /config_info the adapter reads (app/helpers/config.rb:45-86). */
export interface ConfigInfo {
  maintenance_mode?: boolean;
  enable_wait_result?: boolean;
  enable_compiler_options?: boolean;
  allowed_languages_for_compile_options?: string[];
  enable_additional_files?: boolean;
  enable_batched_submissions?: boolean;
  max_submission_batch_size?: number;
  max_queue_size?: number;
  max_cpu_time_limit?: number;
  max_wall_time_limit?: number;
  max_memory_limit?: number;
  max_stack_limit?: number;
  max_max_file_size?: number;
  /** KB: the largest file unzipped from additional_files (config.rb:37). */
  max_extract_size?: number;
}

/** Judge0 1.13.1's own defaults for maxima a server may not report (app/helpers/config.rb:15-35). */
export const CONFIG_DEFAULTS = {
  max_cpu_time_limit: 15,
  max_wall_time_limit: 20,
  max_memory_limit: 512_000,
  max_stack_limit: 128_000,
  max_max_file_size: 4096,
  max_submission_batch_size: 20,
} as const;

/**
 * The local sandbox's compiler flags (executors/sandbox/toolchains.ts), as compiler_options: Judge0
 * compiles `gcc %s main.c` (no -lm: the options come before main.c, so --no-as-needed keeps libm)
 * and `g++ %s main.cpp` (GCC 9 defaults to gnu++14) without optimisation.
 */
export const COMPILER_OPTIONS: Partial<Record<Language, string>> = {
  c: '-O2 -std=c17 -Wl,--no-as-needed -lm',
  cpp: '-O2 -std=c++17',
  // Judge0 CE's rustc 1.40 knows editions up to 2018 and builds without optimisation (active.rb:237);
  // the linker strips symbols so the binary stays under the compile step's file-size limit (MAX_MAX_FILE_SIZE).
  rust: '-O --edition 2018 -C link-arg=-s',
};

/** Memory the box allows above the limit for the runtime itself, as the local sandbox does (toolchains.ts). */
export const MEMORY_HEADROOM_MB: Record<Language, number> = { python: 0, javascript: 32, c: 0, cpp: 0, java: 160, go: 16, rust: 0 };

export interface ClampedLimits {
  cpu_time_limit: number;
  wall_time_limit: number;
  memory_limit: number;
  stack_limit: number;
  max_file_size: number;
}

export function clampLimits(limits: ExecutionLimits, language: Language, config: ConfigInfo): ClampedLimits {
  const max = (key: keyof typeof CONFIG_DEFAULTS) => Number(config[key] ?? CONFIG_DEFAULTS[key]);
  const wallMs = limits.wallLimitMs ?? limits.timeLimitMs * 2 + 1000;
  const memoryKb = (limits.memoryLimitMb + MEMORY_HEADROOM_MB[language]) * 1024;
  return {
    cpu_time_limit: Math.min(limits.timeLimitMs / 1000, max('max_cpu_time_limit')),
    wall_time_limit: Math.max(1, Math.min(wallMs / 1000, max('max_wall_time_limit'))),
    memory_limit: Math.max(2048, Math.min(memoryKb, max('max_memory_limit'))),
    // The sandbox gives the stack as much as the memory limit; Judge0 caps it at MAX_STACK_LIMIT.
    stack_limit: Math.min(limits.memoryLimitMb * 1024, max('max_stack_limit')),
    // One KB above the output limit, so output at the limit is not cut; capped by MAX_MAX_FILE_SIZE.
    max_file_size: Math.min(Math.ceil(limits.outputLimitBytes / 1024) + 1, max('max_max_file_size')),
  };
}

/** Whether this server accepts compiler_options for that Judge0 language (submission.rb:175-193). */
export function compilerOptionsAllowed(config: ConfigInfo, judge0Name: string): boolean {
  if (config.enable_compiler_options === false) return false;
  const allowed = config.allowed_languages_for_compile_options ?? [];
  return allowed.length === 0 || allowed.some((prefix) => judge0Name.startsWith(`${prefix} `));
}

export interface PayloadInput {
  resolved: ResolvedLanguage;
  source: string;
  stdin: string;
  limits: ClampedLimits;
  memoryLimitMb: number;
  withCompilerOptions: boolean;
}

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

export function submissionPayload(p: PayloadInput): Record<string, unknown> {
  const common = { stdin: b64(p.stdin), ...p.limits };
  const multi = p.resolved.multiFile;
  if (multi) {
    const files: Record<string, string> = {
      [multi.sourceFile]: p.source,
      run: runScript(p.resolved.language, multi.runCmd, p.memoryLimitMb),
    };
    if (multi.compileCmd) files.compile = multi.compileCmd.replace('%s', JAVAC_OPTIONS);
    return { language_id: multi.projectId, additional_files: b64(zipStored(files)), ...common };
  }
  const options = p.withCompilerOptions ? COMPILER_OPTIONS[p.resolved.language] : undefined;
  return { language_id: p.resolved.id, source_code: b64(p.source), ...common, ...(options ? { compiler_options: options } : {}) };
}

export const JAVAC_OPTIONS = '-encoding UTF-8 -J-Xmx256m -J-XX:+UseSerialGC -J-XX:TieredStopAtLevel=1';

/** Judge0's run command with the local sandbox's runtime flags inserted after the binary. */
export function runScript(language: Language, runCmd: string, memoryLimitMb: number): string {
  const [binary, ...rest] = runCmd.trim().split(/\s+/);
  const flags =
    language === 'java'
      ? // The sandbox's memory and speed flags that OpenJDK 13 accepts as they are (not CICompilerCount=1).
        [`-Xmx${memoryLimitMb}m`, '-Xss64m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1']
      : [`--max-old-space-size=${Math.max(16, memoryLimitMb)}`, '--stack-size=65500'];
  return `${[binary, ...flags, ...rest].join(' ')}\n`;
}
