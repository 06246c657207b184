/**
 * Output checkers. The default, like DMOJ's `standard` and Hydro's `diff -BZ`, ignores trailing
 * whitespace on each line and trailing blank lines, and treats CRLF (and a lone CR) as LF.
 *
 * Every checker compares while the program's output streams in (`OutputCheck`): it keeps at most
 * one line or token of the output, bounded by the length of the expected one, so a program printing
 * megabytes costs no memory. `Checker` runs the same comparison on a whole string (tests, tools).
 * Whitespace between tokens is ASCII whitespace; output bytes are compared as written (no decoding).
 */

export interface CheckResult {
  ok: boolean;
  /** Where the first difference is (quotes expected and actual output: execution.log / samples only). */
  message?: string;
  /** Partial credit, a fraction 0..1 of the case (checker programs only; `ok` is false). */
  points?: number;
  /** The checker itself failed (a checker program's fault): the case is IE, never AC. */
  checkerFailed?: boolean;
}

export type CheckerSpec =
  { type: 'exact' } | { type: 'whitespace' } | { type: 'token' } | { type: 'float'; absoluteError?: number; relativeError?: number };

/** A comparison fed with the output as it is written. */
export interface OutputCheck {
  write(chunk: Buffer): void;
  end(): CheckResult;
}

export type StreamingChecker = (expected: string) => OutputCheck;
export type Checker = (expected: string, actual: string) => CheckResult;

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
/** Bytes of a line or token kept for a message beyond the expected length. */
const QUOTE_BYTES = 64;
/** Longest output token read as a number (float checker). */
const MAX_NUMBER_BYTES = 4096;

const isAsciiSpace = (b: number) => b === SPACE || (b >= TAB && b <= CR);

/** Appends bytes up to a capacity; remembers that more came. Reused line after line. */
class BoundedBytes {
  private data: Buffer;
  length = 0;
  overflow = false;
  constructor(private capacity: number) {
    this.data = Buffer.allocUnsafe(capacity);
  }
  push(byte: number): void {
    if (this.length < this.capacity) this.data[this.length++] = byte;
    else this.overflow = true;
  }
  append(other: BoundedBytes): void {
    for (let i = 0; i < other.length; i++) this.push(other.data[i]);
    if (other.overflow) this.overflow = true;
  }
  equals(expected: Buffer): boolean {
    return !this.overflow && this.length === expected.length && this.data.subarray(0, this.length).equals(expected);
  }
  text(): string {
    return this.data.subarray(0, this.length).toString('utf8') + (this.overflow ? '...' : '');
  }
  reset(capacity = this.capacity): void {
    if (capacity > this.data.length) this.data = Buffer.allocUnsafe(capacity);
    this.capacity = capacity;
    this.length = 0;
    this.overflow = false;
  }
}

function quote(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}...` : s);
}

function runOnString(start: StreamingChecker): Checker {
  return (expected, actual) => {
    const check = start(expected);
    check.write(Buffer.from(actual, 'utf8'));
    return check.end();
  };
}

/** Byte-for-byte equality. */
export const startExact: StreamingChecker = (expected) => {
  const want = Buffer.from(expected, 'utf8');
  let pos = 0;
  let mismatchAt = -1;
  let tailDone = false;
  const tail = new BoundedBytes(QUOTE_BYTES);
  const keepTail = (chunk: Buffer) => {
    for (let i = 0; i < chunk.length && !tailDone; i++) {
      if (chunk[i] === LF || tail.overflow) tailDone = true;
      else tail.push(chunk[i]);
    }
  };
  return {
    write(chunk) {
      if (mismatchAt >= 0) return keepTail(chunk);
      const n = Math.min(chunk.length, want.length - pos);
      if (n === chunk.length && chunk.equals(want.subarray(pos, pos + n))) {
        pos += n;
        return;
      }
      let i = 0;
      while (i < n && chunk[i] === want[pos + i]) i++;
      mismatchAt = pos + i;
      keepTail(chunk.subarray(i));
    },
    end() {
      if (mismatchAt < 0 && pos === want.length) return { ok: true };
      const at = mismatchAt >= 0 ? mismatchAt : pos;
      const lineStart = at === 0 ? 0 : want.lastIndexOf(LF, at - 1) + 1;
      const lineEnd = want.indexOf(LF, lineStart);
      let line = 1;
      for (let i = 0; i < lineStart; i++) if (want[i] === LF) line++;
      const expectedLine = want.subarray(lineStart, lineEnd < 0 ? want.length : lineEnd).toString('utf8');
      const actualLine = want.subarray(lineStart, at).toString('utf8') + tail.text();
      if (mismatchAt < 0) {
        if (want[at] === LF) return { ok: false, message: `line ${line}: output ended before the line break` };
        return { ok: false, message: `line ${line}: expected ${quote(expectedLine)}, output ended` };
      }
      if (at >= want.length && lineStart === at)
        return { ok: false, message: `line ${line}: unexpected extra output ${quote(actualLine)}` };
      return { ok: false, message: `line ${line}: expected ${quote(expectedLine)}, got ${quote(actualLine)}` };
    },
  };
};

/** Expected lines as the whitespace checker sees them: CR/CRLF as LF, trailing blanks and blank lines gone. */
function normalizedLines(s: string): string[] {
  const out = s
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((l) => l.replace(/[ \t]+$/, ''));
  while (out.length && out[out.length - 1] === '') out.pop();
  return out;
}

/** Line by line, ignoring trailing spaces/tabs on each line and blank lines at the end. */
export const startWhitespace: StreamingChecker = (expected) => {
  const lines = normalizedLines(expected).map((l) => Buffer.from(l, 'utf8'));
  let index = 0; // the line being read (0-based)
  let blankLines = 0; // blank lines read but not yet compared (they may be trailing)
  let afterCr = false;
  let failure: string | undefined;
  const capacity = (i: number) => Math.max(QUOTE_BYTES, (lines[i]?.length ?? 0) + 1);
  const line = new BoundedBytes(capacity(0));
  const spaces = new BoundedBytes(capacity(0));
  let hasContent = false;

  const compareLine = (i: number, actual: BoundedBytes | undefined): boolean => {
    const want = lines[i];
    if (want === undefined) failure = `line ${i + 1}: unexpected extra output ${quote(actual?.text() ?? '')}`;
    else if (!(actual ? actual.equals(want) : want.length === 0))
      failure = `line ${i + 1}: expected ${quote(want.toString('utf8'))}, got ${quote(actual?.text() ?? '')}`;
    return failure === undefined;
  };
  const startLine = () => {
    line.reset(capacity(index));
    spaces.reset(capacity(index));
    hasContent = false;
  };
  const endLine = () => {
    if (!hasContent) {
      blankLines++;
      index++;
      startLine();
      return;
    }
    // Blank lines followed by content were not trailing: they must match blank expected lines.
    for (let i = index - blankLines; i < index; i++) if (!compareLine(i, undefined)) return;
    blankLines = 0;
    if (compareLine(index, line)) {
      index++;
      startLine();
    }
  };

  return {
    write(chunk) {
      for (let i = 0; i < chunk.length && failure === undefined; i++) {
        const b = chunk[i];
        if (afterCr) {
          afterCr = false;
          if (b === LF) continue;
        }
        if (b === LF || b === CR) {
          afterCr = b === CR;
          endLine();
        } else if (b === SPACE || b === TAB) {
          spaces.push(b);
        } else {
          if (spaces.length || spaces.overflow) {
            line.append(spaces);
            spaces.reset();
          }
          line.push(b);
          hasContent = true;
          // A line longer than the expected one (plus the quote) cannot match: judge it now.
          if (line.overflow) endLine();
        }
      }
    },
    end() {
      if (failure === undefined && hasContent) endLine();
      if (failure === undefined) {
        const read = index - blankLines;
        if (read < lines.length) failure = `line ${read + 1}: expected ${quote(lines[read].toString('utf8'))}, output ended`;
      }
      return failure === undefined ? { ok: true } : { ok: false, message: failure };
    },
  };
};

/** Splits the stream into whitespace-separated tokens and hands each (bounded) to `judge`. */
function tokenStream(
  expected: string,
  capacityFor: (want: string | undefined) => number,
  judge: (i: number, want: string, actual: BoundedBytes) => string | undefined,
): OutputCheck {
  const tokens = expected.split(/[ \t\n\v\f\r]+/).filter(Boolean);
  let index = 0;
  let inToken = false;
  const current = new BoundedBytes(QUOTE_BYTES);
  let failure: string | undefined;
  const finish = () => {
    inToken = false;
    if (index >= tokens.length) failure = `token ${index + 1}: unexpected extra output ${quote(current.text())}`;
    else failure = judge(index, tokens[index], current);
    index++;
  };
  return {
    write(chunk) {
      for (let i = 0; i < chunk.length && failure === undefined; i++) {
        const b = chunk[i];
        if (isAsciiSpace(b)) {
          if (inToken) finish();
          continue;
        }
        if (!inToken) {
          current.reset(capacityFor(tokens[index]));
          inToken = true;
        }
        current.push(b);
        // Longer than the expected token (plus the quote): it cannot match, judge it now.
        if (current.overflow) finish();
      }
    },
    end() {
      if (failure === undefined && inToken) finish();
      if (failure === undefined && index < tokens.length) failure = `token ${index + 1}: expected ${quote(tokens[index])}, output ended`;
      return failure === undefined ? { ok: true } : { ok: false, message: failure };
    },
  };
}

const tokenMessage = (i: number, want: string, actual: BoundedBytes) =>
  `token ${i + 1}: expected ${quote(want)}, got ${quote(actual.text())}`;

/** Whitespace-separated tokens must be equal. */
export const startToken: StreamingChecker = (expected) =>
  tokenStream(
    expected,
    (want) => Math.max(QUOTE_BYTES, Buffer.byteLength(want ?? '') + 1),
    (i, want, actual) => (actual.equals(Buffer.from(want, 'utf8')) ? undefined : tokenMessage(i, want, actual)),
  );

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const isNumeric = (token: string) => token !== '' && Number.isFinite(Number(token));

/** Numbers match within an absolute OR relative error (Kattis-style); other tokens must be equal. */
export function startFloat(absoluteError = 1e-6, relativeError = 1e-6): StreamingChecker {
  return (expected) =>
    tokenStream(
      expected,
      (want) => (want !== undefined && isNumeric(want) ? MAX_NUMBER_BYTES : Math.max(QUOTE_BYTES, Buffer.byteLength(want ?? '') + 1)),
      (i, want, actual) => {
        if (!isNumeric(want)) return actual.equals(Buffer.from(want, 'utf8')) ? undefined : tokenMessage(i, want, actual);
        const text = actual.overflow ? '' : actual.text();
        const x = Number(want);
        const y = Number(text);
        if (!NUMBER.test(text) || !Number.isFinite(y)) return tokenMessage(i, want, actual);
        const diff = Math.abs(x - y);
        if (diff > absoluteError && diff > relativeError * Math.abs(x))
          return `${tokenMessage(i, want, actual)} (difference ${diff.toExponential(2)})`;
        return undefined;
      },
    );
}

export const exact: Checker = runOnString(startExact);
export const whitespace: Checker = runOnString(startWhitespace);
export const token: Checker = runOnString(startToken);
export function float(absoluteError = 1e-6, relativeError = 1e-6): Checker {
  return runOnString(startFloat(absoluteError, relativeError));
}

export function streamingCheckerFor(spec: CheckerSpec = { type: 'whitespace' }): StreamingChecker {
  switch (spec.type) {
    case 'exact':
      return startExact;
    case 'whitespace':
      return startWhitespace;
    case 'token':
      return startToken;
    case 'float':
      return startFloat(spec.absoluteError, spec.relativeError);
  }
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
