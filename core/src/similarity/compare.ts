/**
 * Compares fingerprinted submissions: similarity of their fingerprint sets, the aligned fragments
 * (line ranges in both sources that share fingerprints) and per-problem clusters.
 *
 * Similarity is the Jaccard index of the two sets of distinct fingerprint hashes,
 * |A ∩ B| / |A ∪ B|: symmetric, and a small program wholly contained in a large one does not
 * score 1 (containment, |A ∩ B| / |A|, is reported alongside for staff to read).
 */
import type { Fingerprint } from './winnow';

export const DEFAULT_THRESHOLD = 0.5;

export interface FingerprintedSubmission {
  requestId: string;
  userId: string;
  problemId: string;
  language: string;
  fingerprints: Fingerprint[];
  /** When it was accepted (ISO); "earlier" submissions are the ones compared against. */
  acceptedAt: string;
}

export interface Fragment {
  /** Inclusive line ranges in the submission and in the match. */
  lines: [number, number];
  matchLines: [number, number];
  /** Shared fingerprints inside the fragment. */
  fingerprints: number;
}

export interface Match {
  requestId: string;
  userId: string;
  language: string;
  /** Jaccard index of the fingerprint hash sets, 0..1. */
  similarity: number;
  /** Share of this submission's fingerprints found in the match, 0..1. */
  containment: number;
  fragments: Fragment[];
}

export function similarity(a: Fingerprint[], b: Fingerprint[]): { jaccard: number; containment: number } {
  return setSimilarity(new Set(a.map((f) => f.hash)), new Set(b.map((f) => f.hash)));
}

function setSimilarity(setA: Set<number>, setB: Set<number>): { jaccard: number; containment: number } {
  if (setA.size === 0 || setB.size === 0) return { jaccard: 0, containment: 0 };
  let shared = 0;
  for (const h of setA) if (setB.has(h)) shared++;
  return { jaccard: shared / (setA.size + setB.size - shared), containment: shared / setA.size };
}

/**
 * Pairs each shared fingerprint's lines in a with its lines in b, then merges pairs whose ranges
 * touch or nearly touch (within `gap` lines) on both sides into fragments, largest first.
 */
export function alignedFragments(a: Fingerprint[], b: Fingerprint[], gap = 2, limit = 10): Fragment[] {
  const inB = new Map<number, Fingerprint[]>();
  for (const f of b) inB.set(f.hash, [...(inB.get(f.hash) ?? []), f]);
  const pairs: Array<{ a: Fingerprint; b: Fingerprint }> = [];
  for (const f of a) {
    const candidates = inB.get(f.hash);
    // Of several occurrences, the one nearest the previous pair keeps fragments contiguous.
    if (!candidates) continue;
    const previous = pairs[pairs.length - 1]?.b.startLine ?? 0;
    const best = candidates.reduce((x, y) => (Math.abs(y.startLine - previous) < Math.abs(x.startLine - previous) ? y : x));
    pairs.push({ a: f, b: best });
  }
  pairs.sort((x, y) => x.a.startLine - y.a.startLine || x.b.startLine - y.b.startLine);
  const fragments: Fragment[] = [];
  for (const { a: fa, b: fb } of pairs) {
    const current = fragments.find(
      (g) =>
        fa.startLine <= g.lines[1] + gap &&
        fa.endLine >= g.lines[0] - gap &&
        fb.startLine <= g.matchLines[1] + gap &&
        fb.endLine >= g.matchLines[0] - gap,
    );
    if (current) {
      current.lines = [Math.min(current.lines[0], fa.startLine), Math.max(current.lines[1], fa.endLine)];
      current.matchLines = [Math.min(current.matchLines[0], fb.startLine), Math.max(current.matchLines[1], fb.endLine)];
      current.fingerprints++;
    } else {
      fragments.push({ lines: [fa.startLine, fa.endLine], matchLines: [fb.startLine, fb.endLine], fingerprints: 1 });
    }
  }
  return fragments.sort((x, y) => y.fingerprints - x.fingerprints || x.lines[0] - y.lines[0]).slice(0, limit);
}

/**
 * The closest earlier accepted submissions of other users on the same problem, most similar first.
 * Only matches at or above `minSimilarity` (default 0: all, for staff to judge) are listed.
 */
export function topMatches(
  subject: FingerprintedSubmission,
  candidates: FingerprintedSubmission[],
  opts: { limit?: number; minSimilarity?: number } = {},
): Match[] {
  return candidates
    .filter(
      (c) =>
        c.requestId !== subject.requestId &&
        c.userId !== subject.userId &&
        c.problemId === subject.problemId &&
        c.acceptedAt <= subject.acceptedAt,
    )
    .map((c) => {
      const { jaccard, containment } = similarity(subject.fingerprints, c.fingerprints);
      return { candidate: c, jaccard, containment };
    })
    .filter((m) => m.jaccard > 0 && m.jaccard >= (opts.minSimilarity ?? 0))
    .sort((x, y) => y.jaccard - x.jaccard)
    .slice(0, opts.limit ?? 5)
    .map(({ candidate, jaccard, containment }) => ({
      requestId: candidate.requestId,
      userId: candidate.userId,
      language: candidate.language,
      similarity: round(jaccard),
      containment: round(containment),
      fragments: alignedFragments(subject.fingerprints, candidate.fingerprints),
    }));
}

export interface Cluster {
  /** Submissions linked by pairwise similarity at or above the threshold (single linkage). */
  members: Array<{ requestId: string; userId: string; language: string }>;
  /** Highest pairwise similarity inside the cluster. */
  maxSimilarity: number;
}

/** Groups submissions of one problem by different users whose similarity reaches `threshold`. */
export function clusters(submissions: FingerprintedSubmission[], threshold = DEFAULT_THRESHOLD): Cluster[] {
  const parent = submissions.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  const best = new Map<number, number>();
  // Pairwise over up to a few hundred submissions: build each hash set once.
  const sets = submissions.map((s) => new Set(s.fingerprints.map((f) => f.hash)));
  for (let i = 0; i < submissions.length; i++) {
    for (let j = i + 1; j < submissions.length; j++) {
      if (submissions[i].userId === submissions[j].userId) continue;
      const { jaccard } = setSimilarity(sets[i], sets[j]);
      if (jaccard < threshold) continue;
      const [ri, rj] = [find(i), find(j)];
      const root = Math.min(ri, rj);
      parent[Math.max(ri, rj)] = root;
      best.set(root, Math.max(jaccard, best.get(ri) ?? 0, best.get(rj) ?? 0));
    }
  }
  const groups = new Map<number, number[]>();
  submissions.forEach((_, i) => groups.set(find(i), [...(groups.get(find(i)) ?? []), i]));
  return [...groups.entries()]
    .filter(([, members]) => members.length > 1)
    .map(([root, members]) => ({
      members: members.map((i) => ({
        requestId: submissions[i].requestId,
        userId: submissions[i].userId,
        language: submissions[i].language,
      })),
      maxSimilarity: round(best.get(root) ?? 0),
    }))
    .sort((x, y) => y.maxSimilarity - x.maxSimilarity || y.members.length - x.members.length);
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
