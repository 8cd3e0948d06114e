/**
 * The output file name of each API object. Object names of Jobs carry a content hash, their file
 * names do not, so a changed Job shows in a PR as a modified file.
 */
import type { ApiObject } from 'cdk8s';

const names = new WeakMap<ApiObject, string>();

/** Sets the file name (without `.yaml`) an object is written to. */
export function setFileName(obj: ApiObject, base: string): void {
  if (!/^[a-z0-9][a-z0-9.-]*$/.test(base)) {
    throw new Error(`file name '${base}' must be lower-case letters, digits, '.' and '-'`);
  }
  names.set(obj, base);
}

/** The file name (without `.yaml`): the one set, else `<kind>-<name>`. */
export function fileNameOf(obj: ApiObject): string {
  return names.get(obj) ?? `${obj.kind.toLowerCase()}-${obj.name}`;
}
