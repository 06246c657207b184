/**
 * Finding problems and their reference solutions on disk, for the problem tooling. A folder is a
 * problem when it has a testcases/ subfolder or case files of its own; a folder of problems is
 * every such subfolder. Reference solutions live in `<problem>/solutions/`, named by the verdict
 * they must get: `ac.cpp`, `wa.py`, `tle-naive.py`, `accepted.java`, ...
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { VERDICTS, Verdict } from '../../../../core/src/contracts/result';
import { LANGUAGE_IDS, LANGUAGES, Language } from '../../../../core/src/languages';

const VERDICT_NAMES: Record<string, Verdict> = {
  ac: 'AC',
  accepted: 'AC',
  wa: 'WA',
  'wrong-answer': 'WA',
  tle: 'TLE',
  'time-limit': 'TLE',
  mle: 'MLE',
  'memory-limit': 'MLE',
  re: 'RE',
  'runtime-error': 'RE',
  ce: 'CE',
  'compile-error': 'CE',
  ole: 'OLE',
  'output-limit': 'OLE',
};

export function isVerdict(value: string): value is Verdict {
  return (VERDICTS as readonly string[]).includes(value);
}

export interface ReferenceSolution {
  file: string;
  language: Language;
  expected: Verdict;
}

async function isProblem(dir: string): Promise<boolean> {
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  return names.includes('testcases') || names.some((n) => /^\d+\.(in|out)$/.test(n));
}

/** `dir` itself when it is a problem, else its subfolders that are (sorted). */
export async function problemFolders(dir: string): Promise<string[]> {
  const stat = await fsp.stat(dir).catch(() => undefined);
  if (!stat?.isDirectory()) throw new Error(`${dir} is not a folder`);
  if (await isProblem(dir)) return [dir];
  const found: string[] = [];
  for (const name of (await fsp.readdir(dir)).sort()) {
    const sub = path.join(dir, name);
    if ((await fsp.stat(sub)).isDirectory() && (await isProblem(sub))) found.push(sub);
  }
  if (!found.length) throw new Error(`${dir} holds no problem (a folder with testcases/ or 1.in, 1.out, ...)`);
  return found;
}

/** Verdict a file name promises: its base name, or the part before the first "-" or ".", e.g. tle-naive.py. */
export function expectedVerdictOf(file: string): Verdict | undefined {
  const base = path.basename(file, path.extname(file)).toLowerCase();
  return VERDICT_NAMES[base] ?? VERDICT_NAMES[base.split(/[-_.]/)[0]] ?? VERDICT_NAMES[base.replace(/[-_.][^-_.]*$/, '')];
}

/** The reference solutions of a problem, and the names that promise nothing (reported by validate). */
export async function referenceSolutions(problemDir: string): Promise<{ solutions: ReferenceSolution[]; unnamed: string[] }> {
  const dir = path.join(problemDir, 'solutions');
  const names = (await fsp.readdir(dir).catch(() => [] as string[])).sort();
  const solutions: ReferenceSolution[] = [];
  const unnamed: string[] = [];
  for (const name of names) {
    const ext = path.extname(name).slice(1);
    const language = LANGUAGE_IDS.find((id) => LANGUAGES[id].extension === ext);
    const expected = expectedVerdictOf(name);
    if (language && expected) solutions.push({ file: path.join(dir, name), language, expected });
    else if (language) unnamed.push(`solutions/${name}: the name promises no verdict (ac, wa, tle, mle, re, ce, ole, ...)`);
    else unnamed.push(`solutions/${name}: unknown language .${ext}`);
  }
  return { solutions, unnamed };
}
