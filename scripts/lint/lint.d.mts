/** The rule ids a text breaks, as if it were the file at `path` (relative to the repository root). */
export function lintText(text: string, path: string): Promise<string[]>;
