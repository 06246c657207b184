/** "Did you mean ...?" for mistyped names: the closest candidates by edit distance. */

/** Levenshtein distance, case-insensitive (a wrong capital is a typo too). */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let previous = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const current = [i];
    for (let j = 1; j <= t.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (s[i - 1] === t[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[t.length];
}

/**
 * Candidates close enough to be what was meant (at most a third of the name's length, at least 2
 * edits allowed), closest first; at most `limit`.
 */
export function closest(name: string, candidates: Iterable<string>, limit = 2): string[] {
  const allowed = Math.max(2, Math.floor(name.length / 3));
  return [...candidates]
    .map((candidate) => ({ candidate, distance: editDistance(name, candidate) }))
    .filter(({ distance }) => distance <= allowed)
    .sort((x, y) => x.distance - y.distance || x.candidate.localeCompare(y.candidate))
    .slice(0, limit)
    .map(({ candidate }) => candidate);
}

/** " (did you mean a or b?)", or "" when nothing is close. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const found = closest(name, candidates);
  return found.length ? ` (did you mean ${found.join(' or ')}?)` : '';
}
