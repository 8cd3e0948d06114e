/** Counted nouns in the text the tool writes: "1 object", "3 objects". */

/** `n` and the noun, singular for exactly one. */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}

/** All of `n` things, as a sentence says it: "the node", "both nodes", "all 3 nodes". */
export function all(n: number, singular: string, plural = `${singular}s`): string {
  return n === 1 ? `the ${singular}` : n === 2 ? `both ${plural}` : `all ${n} ${plural}`;
}
