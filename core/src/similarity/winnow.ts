/**
 * Winnowing (Schleimer, Wilkerson, Aiken: "Winnowing: Local Algorithms for Document
 * Fingerprinting", SIGMOD 2003), the selection MOSS uses: hash every k-gram of the normalised
 * token stream, slide a window of w consecutive hashes, keep the minimum of each window (the
 * rightmost one on ties) and record it once with its position. Any shared run of at least
 * w + k - 1 tokens is guaranteed to share a fingerprint; runs shorter than k tokens never do.
 */
import type { Language } from '../languages';
import { Token, tokenize } from './tokenize';

export interface Fingerprint {
  /** 32-bit hash of the k-gram. */
  hash: number;
  /** Source lines of the k-gram's first and last token. */
  startLine: number;
  endLine: number;
}

export interface WinnowParams {
  /** k-gram length in tokens (noise threshold). */
  k: number;
  /** Window size in k-grams. */
  w: number;
}

export const DEFAULT_WINNOW: WinnowParams = { k: 12, w: 6 };

export function fingerprintSource(source: string, language: Language, params: WinnowParams = DEFAULT_WINNOW): Fingerprint[] {
  return winnow(tokenize(source, language), params);
}

export function winnow(tokens: Token[], { k, w }: WinnowParams = DEFAULT_WINNOW): Fingerprint[] {
  if (k < 1 || w < 1) throw new Error(`winnowing needs k >= 1 and w >= 1 (got k=${k}, w=${w})`);
  const ids = tokens.map((t) => fnv1a(t.text));
  const grams: number[] = [];
  for (let i = 0; i + k <= ids.length; i++) {
    let h = 0x811c9dc5;
    for (let j = i; j < i + k; j++) h = Math.imul(h ^ ids[j], 0x01000193) >>> 0;
    grams.push(h);
  }
  const fingerprints: Fingerprint[] = [];
  const record = (at: number) => fingerprints.push({ hash: grams[at], startLine: tokens[at].line, endLine: tokens[at + k - 1].line });
  // A document shorter than one window still gets its minimum.
  if (grams.length > 0 && grams.length < w) {
    record(minIndex(grams, 0, grams.length));
    return fingerprints;
  }
  let last = -1;
  for (let start = 0; start + w <= grams.length; start++) {
    const at = minIndex(grams, start, start + w);
    if (at !== last) {
      record(at);
      last = at;
    }
  }
  return fingerprints;
}

/** Index of the minimum in [from, to), the rightmost one on ties. */
function minIndex(values: number[], from: number, to: number): number {
  let at = from;
  for (let i = from + 1; i < to; i++) if (values[i] <= values[at]) at = i;
  return at;
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
