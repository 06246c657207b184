/**
 * Which Judge0 language serves each of our languages, with the name and version Judge0 reports
 * (GET /languages: id and name, languages_controller.rb:3), and for Java and JavaScript the
 * commands of the plain language (GET /languages/:id: every column, language_serializer.rb:2) so the
 * adapter can run them as a "Multi-file program" (language 89) with the same memory flags as the
 * local sandbox: Judge0 runs `java Main` without -Xmx and `node script.js` without a heap limit, and
 * arguments after the command go to the program, not the runtime.
 */
import type { Language } from '../../../../core/src/languages';

export interface Judge0LanguageRow {
  id: number;
  name: string;
  source_file?: string | null;
  compile_cmd?: string | null;
  run_cmd?: string | null;
}

export interface ResolvedLanguage {
  language: Language;
  id: number;
  /** As Judge0 names it, e.g. "Java (OpenJDK 13.0.1)". */
  name: string;
  /** The parenthesised part, e.g. "OpenJDK 13.0.1". */
  version: string;
  /** Set when the language runs as a multi-file program with our own run script. */
  multiFile?: { projectId: number; sourceFile: string; compileCmd: string | null; runCmd: string };
}

export const LANGUAGE_PATTERNS: Record<Language, RegExp> = {
  python: /^Python \(3\./,
  javascript: /^JavaScript \(Node\.js/,
  c: /^C \(GCC/,
  cpp: /^C\+\+ \(GCC/,
  java: /^Java \((OpenJDK|JDK)/,
  go: /^Go \(\d/,
  rust: /^Rust \(\d/,
};

/** Judge0's name of language 89 (app/models/language.rb:18-20). */
export const MULTI_FILE_NAME = 'Multi-file program';

export function versionOf(name: string): string {
  return /\(([^)]*)\)/.exec(name)?.[1] ?? '';
}

/** The newest matching Judge0 language for each of ours ("C (GCC 9.2.0)" over "C (GCC 7.4.0)"). */
export function resolveLanguages(rows: Judge0LanguageRow[]): Map<Language, ResolvedLanguage> {
  const resolved = new Map<Language, ResolvedLanguage>();
  for (const [language, pattern] of Object.entries(LANGUAGE_PATTERNS) as Array<[Language, RegExp]>) {
    const best = rows.filter((l) => pattern.test(l.name)).sort((a, b) => compareVersions(numbers(b.name), numbers(a.name)))[0];
    if (best) resolved.set(language, { language, id: best.id, name: best.name, version: versionOf(best.name) });
  }
  return resolved;
}

function numbers(name: string): number[] {
  return (versionOf(name).match(/\d+/g) ?? []).map(Number);
}

function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}
