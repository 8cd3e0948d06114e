/**
 * Content-hash names for immutable objects (Jobs and the ConfigMaps they run).
 */
import { createHash } from 'node:crypto';

/** Kubernetes label values (a Job's name becomes its pods' `job-name` label) stop at 63 characters. */
export const MAX_NAME_LENGTH = 63;

/** Canonical array-index keys, which JavaScript objects list first, in numeric order. */
const INDEX_KEY = /^(?:0|[1-9][0-9]*)$/;

function indexKeysFirst(keys: string[]): string[] {
  const index = keys.filter((k) => INDEX_KEY.test(k) && Number(k) < 2 ** 32 - 1).sort((a, b) => Number(a) - Number(b));
  return [...index, ...keys.filter((k) => !index.includes(k))];
}

/**
 * JSON with object keys sorted at every level, so equal content hashes equally. The text is that
 * of `JSON.stringify` with a replacer that rebuilds every object with sorted keys (what the hashes
 * in committed output were made with), written directly because it runs for every Job.
 */
export function canonicalJson(value: unknown): string {
  // Like JSON.stringify, undefined (a function, undefined itself) gives no text.
  return write(value) as string;
}

/** Keys and strings written as JSON, remembered: a large render repeats the same few thousand. */
const quoted = new Map<string, string>();

function quote(text: string): string {
  let result = quoted.get(text);
  if (result === undefined) {
    result = JSON.stringify(text);
    if (quoted.size < 100_000) {
      quoted.set(text, result);
    }
  }
  return result;
}

function write(value: unknown): string | undefined {
  if (value === null) {
    return 'null';
  }
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
    case 'boolean':
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      return undefined;
  }
  const object = value as { toJSON?: () => unknown };
  if (typeof object.toJSON === 'function') {
    return write(object.toJSON());
  }
  if (Array.isArray(value)) {
    let text = '[';
    for (let i = 0; i < value.length; i++) {
      text += `${i === 0 ? '' : ','}${write(value[i]) ?? 'null'}`;
    }
    return `${text}]`;
  }
  // Default sort compares UTF-16 code units, as `<` does.
  const keys = Object.keys(value).sort();
  // A rebuilt object lists index-like keys first, in numeric order, whatever the insertion order.
  const ordered = keys.some((k) => k.charCodeAt(0) <= 57 && INDEX_KEY.test(k)) ? indexKeysFirst(keys) : keys;
  let text = '{';
  let first = true;
  for (const key of ordered) {
    const part = write((value as Record<string, unknown>)[key]);
    if (part !== undefined) {
      text += `${first ? '' : ','}${quote(key)}:${part}`;
      first = false;
    }
  }
  return `${text}}`;
}

/** The first 8 hex digits of the SHA-256 of the canonical JSON of `content`. */
export function shortHash(content: unknown): string {
  return createHash('sha256').update(canonicalJson(content)).digest('hex').slice(0, 8);
}

/**
 * `<prefix>-<hash>`, at most `maxLength` (63) characters: a long prefix (a long node name) is cut,
 * and the hash, which covers the full content, keeps cut names apart.
 */
export function hashedName(prefix: string, hash: string, maxLength = MAX_NAME_LENGTH): string {
  const room = maxLength - hash.length - 1;
  const cut = prefix.length > room ? prefix.slice(0, room).replace(/[-.]+$/, '') : prefix;
  return `${cut}-${hash}`;
}
