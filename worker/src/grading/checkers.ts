/**
 * Output checkers: small pure functions (expected, actual) -> verdict on correctness. The default,
 * like DMOJ's `standard` and Hydro's `diff -BZ`, ignores trailing whitespace on each line and
 * trailing blank lines, and treats CRLF as LF.
 */

export interface CheckResult {
  ok: boolean;
  /** Where the first difference is, for execution.log and the case message. */
  message?: string;
}

export type CheckerSpec =
  | { type: 'exact' }
  | { type: 'whitespace' }
  | { type: 'token' }
  | { type: 'float'; absoluteError?: number; relativeError?: number };

export type Checker = (expected: string, actual: string) => CheckResult;

const normalizeNewlines = (s: string) => s.replace(/\r\n?/g, '\n');

export const exact: Checker = (expected, actual) =>
  expected === actual ? { ok: true } : { ok: false, message: firstDifference(expected.split('\n'), actual.split('\n')) };

export const whitespace: Checker = (expected, actual) => {
  const lines = (s: string) => {
    const out = normalizeNewlines(s).split('\n').map((l) => l.replace(/[ \t]+$/, ''));
    while (out.length && out[out.length - 1] === '') out.pop();
    return out;
  };
  const e = lines(expected);
  const a = lines(actual);
  if (e.length === a.length && e.every((line, i) => line === a[i])) return { ok: true };
  return { ok: false, message: firstDifference(e, a) };
};

const tokens = (s: string) => s.split(/\s+/).filter(Boolean);

export const token: Checker = (expected, actual) => {
  const e = tokens(expected);
  const a = tokens(actual);
  for (let i = 0; i < Math.max(e.length, a.length); i++) {
    if (e[i] !== a[i]) return { ok: false, message: tokenMessage(i, e[i], a[i]) };
  }
  return { ok: true };
};

/** Numbers match within an absolute OR relative error (Kattis-style); other tokens must be equal. */
export function float(absoluteError = 1e-6, relativeError = 1e-6): Checker {
  return (expected, actual) => {
    const e = tokens(expected);
    const a = tokens(actual);
    for (let i = 0; i < Math.max(e.length, a.length); i++) {
      if (e[i] === undefined || a[i] === undefined) return { ok: false, message: tokenMessage(i, e[i], a[i]) };
      const x = Number(e[i]);
      const y = Number(a[i]);
      const numeric = e[i] !== '' && Number.isFinite(x);
      if (!numeric) {
        if (e[i] !== a[i]) return { ok: false, message: tokenMessage(i, e[i], a[i]) };
        continue;
      }
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(a[i]) || !Number.isFinite(y)) return { ok: false, message: tokenMessage(i, e[i], a[i]) };
      const diff = Math.abs(x - y);
      if (diff > absoluteError && diff > relativeError * Math.abs(x)) return { ok: false, message: `${tokenMessage(i, e[i], a[i])} (difference ${diff.toExponential(2)})` };
    }
    return { ok: true };
  };
}

export function checkerFor(spec: CheckerSpec = { type: 'whitespace' }): Checker {
  switch (spec.type) {
    case 'exact':
      return exact;
    case 'whitespace':
      return whitespace;
    case 'token':
      return token;
    case 'float':
      return float(spec.absoluteError, spec.relativeError);
  }
}

function firstDifference(expected: string[], actual: string[]): string {
  for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
    if (expected[i] !== actual[i]) {
      if (actual[i] === undefined) return `line ${i + 1}: expected ${quote(expected[i])}, output ended`;
      if (expected[i] === undefined) return `line ${i + 1}: unexpected extra output ${quote(actual[i])}`;
      return `line ${i + 1}: expected ${quote(expected[i])}, got ${quote(actual[i])}`;
    }
  }
  return 'outputs differ';
}

function tokenMessage(i: number, expected: string | undefined, actual: string | undefined): string {
  if (actual === undefined) return `token ${i + 1}: expected ${quote(expected!)}, output ended`;
  if (expected === undefined) return `token ${i + 1}: unexpected extra output ${quote(actual)}`;
  return `token ${i + 1}: expected ${quote(expected)}, got ${quote(actual)}`;
}

function quote(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}...` : s);
}
