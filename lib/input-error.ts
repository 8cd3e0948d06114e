/**
 * Bad input from the user (config, options): reported as one line, exit code 2, output untouched.
 */
export class InputError extends Error {
  /**
   * @param path the field path (`cilium.MTU`), option (`--out`) or file position (`f.yaml:3:1`)
   * @param detail what is wrong, the value, and what to do
   */
  public constructor(
    public readonly path: string,
    public readonly detail: string,
  ) {
    super(`${path}: ${detail}`);
    this.name = 'InputError';
  }
}
