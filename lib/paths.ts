/**
 * Where the repository's files are at run time. Run from source, this module sits in `lib/`; run
 * as the compiled CLI (bin/cilium-cutover.mjs), the launcher sets the root before loading it,
 * because the compiled file lives elsewhere.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

declare global {
  // Set by bin/cilium-cutover.mjs for the compiled CLI.
  var __CILIUM_CUTOVER_ROOT__: string | undefined;
}

/** The repository root (the directory holding package.json). */
export const ROOT: string = globalThis.__CILIUM_CUTOVER_ROOT__ ?? fileURLToPath(new URL('..', import.meta.url));

/** A path under the repository root, given as `/`-separated parts. */
export function rootPath(...parts: string[]): string {
  return join(ROOT, ...parts);
}
