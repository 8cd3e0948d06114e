/**
 * The known name closest to a misspelt one, for "did you mean" hints.
 */

/** Edit distance (insertions, deletions, substitutions) between two names. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The known name nearest to `name`, when it is near enough to be a misspelling: at most a third of
 * its length away (at least 2), or equal ignoring case.
 */
export function nearest(name: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = candidate.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name, candidate);
    if (best === undefined || distance < best.distance) {
      best = { name: candidate, distance };
    }
  }
  return best && best.distance <= Math.max(2, Math.floor(name.length / 3)) ? best.name : undefined;
}

/** `<path>: unknown field; did you mean <x>?` or, without a near name, `<path>: unknown field`. */
export function unknownField(path: string, name: string, known: readonly string[]): string {
  const near = nearest(name, known);
  return near === undefined ? `${path}: unknown field` : `${path}: unknown field; did you mean ${near}?`;
}
