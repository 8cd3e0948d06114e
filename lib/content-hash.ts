/**
 * Content-hash names for immutable objects (Jobs and the ConfigMaps they run).
 */
import { createHash } from 'node:crypto';

/** Kubernetes label values (a Job's name becomes its pods' `job-name` label) stop at 63 characters. */
export const MAX_NAME_LENGTH = 63;

/** JSON with object keys sorted at every level, so equal content hashes equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** The first 8 hex digits of the SHA-256 of the canonical JSON of `content`. */
export function shortHash(content: unknown): string {
  return createHash('sha256').update(canonicalJson(content)).digest('hex').slice(0, 8);
}

/**
 * `<prefix>-<hash>`, at most 63 characters: a long prefix (a long node name) is cut, and the hash,
 * which covers the full content, keeps cut names apart.
 */
export function hashedName(prefix: string, hash: string): string {
  const room = MAX_NAME_LENGTH - hash.length - 1;
  const cut = prefix.length > room ? prefix.slice(0, room).replace(/[-.]+$/, '') : prefix;
  return `${cut}-${hash}`;
}
