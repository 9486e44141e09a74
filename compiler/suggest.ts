/**
 * "Did you mean …?": the closest known name to a misspelt one.
 *
 * Contract: `suggest` returns a candidate only when it is plausibly what the user meant, so a hint
 * built from it is never noise: a candidate equal ignoring case wins outright; otherwise the
 * candidate with the smallest Damerau–Levenshtein distance (optimal string alignment: insert,
 * delete, substitute, swap two neighbours, compared ignoring case) wins, provided the distance is at
 * most a third of the name's length (at least 1) and smaller than the shorter of the two names.
 * Ties go to the candidate that comes first. Deterministic and pure.
 */

/** The closest candidate to `name`, or undefined when none is close enough. */
export function suggest(name: string, candidates: Iterable<string>): string | undefined {
  const lowered = name.toLowerCase();
  const list = [...candidates];
  const sameIgnoringCase = list.find((c) => c !== name && c.toLowerCase() === lowered);
  if (sameIgnoringCase !== undefined) return sameIgnoringCase;
  const limit = Math.max(1, Math.floor(name.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of list) {
    if (candidate === name) continue;
    if (Math.abs(candidate.length - name.length) > limit) continue;
    const distance = editDistance(lowered, candidate.toLowerCase());
    if (distance > limit || distance >= Math.min(name.length, candidate.length)) continue;
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Damerau–Levenshtein distance (optimal string alignment) between two strings, by UTF-16 unit. */
export function editDistance(a: string, b: string): number {
  // rows[i][j] is the distance between a[0, i) and b[0, j); only three rows are alive at a time.
  let previous2: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, previous2[j - 2]! + 1);
      current.push(value);
    }
    previous2 = previous;
    previous = current;
  }
  return previous[b.length]!;
}
