/**
 * Winnowing fingerprints over normalised tokens: copies (renamed, reordered, reformatted) match
 * above the threshold, independent solutions of the same algorithm stay below it.
 */
import assert from 'node:assert/strict';
import {
  alignedFragments,
  clusters,
  DEFAULT_THRESHOLD,
  FingerprintedSubmission,
  similarity,
  topMatches,
} from '../../core/src/similarity/compare';
import { tokenize } from '../../core/src/similarity/tokenize';
import { fingerprintSource, winnow } from '../../core/src/similarity/winnow';
import { CORPUS, CorpusProgram, original, renamedCopy, reformattedCopy, reorderedCopy } from '../fixtures/similarityCorpus';

const texts = (source: string, language: Parameters<typeof tokenize>[1]) => tokenize(source, language).map((t) => t.text);
const score = (p: CorpusProgram, a: string, b: string) =>
  similarity(fingerprintSource(a, p.language), fingerprintSource(b, p.language)).jaccard;

describe('similarity: tokenizer', () => {
  it('drops comments and whitespace and abstracts identifiers and literals (C)', () => {
    const source = '#include <stdio.h>\n/* block\n comment */ int main() { // hi\n  int total = 42; printf("%d", total); }';
    assert.deepEqual(texts(source, 'c'), ['int', 'I', '(', ')', '{', 'int', 'I', '=', 'L', ';', 'I', '(', 'L', ',', 'I', ')', ';', '}']);
  });

  it('keeps keywords and multi-character operators (C++)', () => {
    assert.deepEqual(texts('for (auto &x : v) s += x >> 1; return s <=> t;', 'cpp'), [
      'for',
      '(',
      'auto',
      '&',
      'I',
      ':',
      'I',
      ')',
      'I',
      '+=',
      'I',
      '>>',
      'L',
      ';',
      'return',
      'I',
      '<=>',
      'I',
      ';',
    ]);
  });

  it('drops Java package and import statements but not identifiers named like them', () => {
    assert.deepEqual(texts('package a.b;\nimport java.util.*;\nclass A { int importance = 1; }', 'java'), [
      'class',
      'I',
      '{',
      'int',
      'I',
      '=',
      'L',
      ';',
      '}',
    ]);
  });

  it('treats Python docstrings, prefixed strings and # comments as literals or nothing', () => {
    assert.deepEqual(texts('def f(x):\n    """doc\n    more"""\n    return f"{x}" + r\'\\d\'  # note\n', 'python'), [
      'def',
      'I',
      '(',
      'I',
      ')',
      ':',
      'L',
      'return',
      'L',
      '+',
      'L',
    ]);
  });

  it('reads JavaScript template literals, regex-free code and // comments', () => {
    assert.deepEqual(texts('const s = `a ${b}`; // c\nlet n = 0x1F ?? 2.5e-3;', 'javascript'), [
      'const',
      'I',
      '=',
      'L',
      ';',
      'let',
      'I',
      '=',
      'L',
      '??',
      'L',
      ';',
    ]);
  });

  it('records the line each token starts on', () => {
    const tokens = tokenize('a = 1\n\n"""x\ny"""\nb = 2', 'python');
    assert.deepEqual(
      tokens.map((t) => t.line),
      [1, 1, 1, 3, 5, 5, 5],
    );
  });
});

describe('similarity: winnowing', () => {
  it('selects the rightmost minimum of every window once, with the k-gram lines', () => {
    const tokens = 'abcdefghij'.split('').map((text, i) => ({ text, line: i + 1 }));
    const prints = winnow(tokens, { k: 3, w: 4 });
    assert.ok(prints.length >= Math.ceil((tokens.length - 3 + 1) / 4), 'at least one fingerprint per w k-grams');
    for (const f of prints) assert.equal(f.endLine - f.startLine, 2);
    // Every window of 4 consecutive k-grams contains a selected position: the density guarantee.
    const selected = new Set(prints.map((f) => f.startLine - 1));
    for (let start = 0; start + 4 <= 8; start++)
      assert.ok(
        [0, 1, 2, 3].some((o) => selected.has(start + o)),
        `window at ${start}`,
      );
  });

  it('gives a short document its minimum and an empty one nothing', () => {
    assert.equal(fingerprintSource('x = 1', 'python').length, 0, 'fewer tokens than k: no k-gram');
    assert.equal(
      winnow(
        [
          { text: 'a', line: 1 },
          { text: 'b', line: 1 },
        ],
        { k: 1, w: 5 },
      ).length,
      1,
    );
    assert.throws(() => winnow([], { k: 0, w: 1 }), /k >= 1/);
  });

  it('is unchanged by renaming and reformatting: identical fingerprints', () => {
    const p = CORPUS[0];
    assert.deepEqual(
      fingerprintSource(renamedCopy(p), p.language).map((f) => f.hash),
      fingerprintSource(original(p), p.language).map((f) => f.hash),
    );
  });
});

describe('similarity: copies match, independent solutions do not', () => {
  const observed: string[] = [];
  after(() => {
    if (process.env.SIMILARITY_REPORT) console.log(observed.join('\n'));
  });

  for (const p of CORPUS) {
    it(`${p.problem} (${p.language}): renamed, reordered and reformatted copies reach the threshold`, () => {
      for (const [kind, copy] of [
        ['renamed', renamedCopy(p)],
        ['reordered', reorderedCopy(p)],
        ['reformatted', reformattedCopy(p)],
      ] as const) {
        assert.notEqual(copy, original(p), `${kind} copy differs from the original text`);
        const value = score(p, original(p), copy);
        observed.push(`${p.problem} ${kind} ${value.toFixed(2)}`);
        assert.ok(value >= DEFAULT_THRESHOLD, `${kind} copy scored ${value.toFixed(2)} < ${DEFAULT_THRESHOLD}`);
      }
    });

    it(`${p.problem} (${p.language}): an independent solution of the same algorithm stays below the threshold`, () => {
      const value = score(p, original(p), p.independent);
      observed.push(`${p.problem} independent ${value.toFixed(2)}`);
      assert.ok(value < DEFAULT_THRESHOLD, `independent solution scored ${value.toFixed(2)}`);
    });
  }

  it('false positives over every same-language pair of different authors in the corpus: none', () => {
    const programs = CORPUS.flatMap((p) => [
      { p, source: original(p) },
      { p, source: p.independent },
    ]);
    let pairs = 0;
    let falsePositives = 0;
    for (let i = 0; i < programs.length; i++) {
      for (let j = i + 1; j < programs.length; j++) {
        if (programs[i].p.language !== programs[j].p.language) continue;
        pairs++;
        if (score(programs[i].p, programs[i].source, programs[j].source) >= DEFAULT_THRESHOLD) falsePositives++;
      }
    }
    assert.equal(pairs, 10);
    assert.equal(falsePositives, 0);
  });
});

describe('similarity: matches, fragments and clusters', () => {
  const p = CORPUS[1];
  const sub = (requestId: string, userId: string, source: string, acceptedAt: string): FingerprintedSubmission => ({
    requestId,
    userId,
    problemId: p.problem,
    language: p.language,
    fingerprints: fingerprintSource(source, p.language),
    acceptedAt,
  });
  const first = sub('req_a', 'alice', original(p), '2026-01-01T00:00:00Z');
  const copy = sub('req_b', 'bob', reorderedCopy(p), '2026-01-02T00:00:00Z');
  const own = sub('req_c', 'bob', original(p), '2026-01-01T12:00:00Z');
  const honest = sub('req_d', 'carol', p.independent, '2026-01-01T06:00:00Z');
  const later = sub('req_e', 'dave', renamedCopy(p), '2026-01-03T00:00:00Z');

  it('lists earlier submissions of other users on the problem, most similar first', () => {
    const matches = topMatches(copy, [first, own, honest, later]);
    assert.deepEqual(
      matches.map((m) => m.requestId),
      ['req_a', 'req_d'],
    );
    assert.ok(matches[0].similarity >= DEFAULT_THRESHOLD && matches[0].containment >= matches[0].similarity);
    assert.ok(matches[1].similarity < DEFAULT_THRESHOLD);
  });

  it('aligns fragments: the reordered function is found at its new lines', () => {
    const fragments = alignedFragments(copy.fingerprints, first.fingerprints);
    assert.ok(fragments.length >= 2, 'at least one fragment per moved function');
    const lines = original(p).split('\n');
    const shortestAt = lines.findIndex((l) => l.startsWith('int shortest')) + 1;
    const copyLines = reorderedCopy(p).split('\n');
    const movedAt = copyLines.findIndex((l) => l.startsWith('int shortest')) + 1;
    assert.notEqual(shortestAt, movedAt);
    assert.ok(
      fragments.some(
        (f) =>
          f.lines[0] <= movedAt + 2 && f.lines[1] > movedAt + 10 && f.matchLines[0] <= shortestAt + 2 && f.matchLines[1] > shortestAt + 10,
      ),
      JSON.stringify(fragments),
    );
  });

  it('clusters copies of different users and leaves independent work out', () => {
    const found = clusters([first, copy, own, honest, later]);
    assert.equal(found.length, 1);
    assert.deepEqual(found[0].members.map((m) => m.requestId).sort(), ['req_a', 'req_b', 'req_c', 'req_e']);
    assert.ok(found[0].maxSimilarity >= DEFAULT_THRESHOLD);
    assert.deepEqual(clusters([first, honest]), []);
  });
});
