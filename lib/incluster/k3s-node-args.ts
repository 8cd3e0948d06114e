/**
 * Reads the `k3s.io/node-args` annotation k3s stamps on every Node it runs.
 *
 * The annotation is a JSON array: the subcommand (`server` or `agent`), then the arguments from
 * the config file and its drop-ins followed by the command line, each `--flag=value` split into
 * `"--flag","value"`, a bare `--flag` meaning true. The last occurrence of a flag wins and a
 * missing flag has its k3s default. Dependency-free: bundled into the in-cluster checks.
 */

/** What a Node's k3s arguments say. */
export interface K3sNodeArgs {
  readonly role: 'server' | 'agent' | undefined;
  /** Flag name without dashes → last value given. */
  readonly flags: ReadonlyMap<string, string>;
}

/** Parses the annotation value; throws when it is not a JSON array of strings. */
export function parseNodeArgs(annotation: string): K3sNodeArgs {
  const args: unknown = JSON.parse(annotation);
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) {
    throw new Error('k3s.io/node-args is not a JSON array of strings');
  }
  const [subcommand, ...rest] = args as string[];
  const flags = new Map<string, string>();
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (!arg.startsWith('-')) {
      continue;
    }
    const name = arg.replace(/^-+/, '');
    const eq = name.indexOf('=');
    if (eq >= 0) {
      flags.set(name.slice(0, eq), name.slice(eq + 1));
      continue;
    }
    const next = rest[i + 1];
    if (next !== undefined && !next.startsWith('-')) {
      flags.set(name, next);
      i++;
    } else {
      flags.set(name, 'true');
    }
  }
  const role = subcommand === 'server' || subcommand === 'agent' ? subcommand : undefined;
  return { role, flags };
}

/** Go's strconv.ParseBool, which k3s's flag parser uses; undefined for anything else. */
export function parseGoBool(value: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) {
    return true;
  }
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) {
    return false;
  }
  return undefined;
}

/** The effective flannel backend: `flannel-backend`, the deprecated `no-flannel`, or the default vxlan. */
export function flannelBackend(args: K3sNodeArgs): string {
  const noFlannel = args.flags.get('no-flannel');
  if (noFlannel !== undefined && parseGoBool(noFlannel) === true) {
    return 'none';
  }
  return args.flags.get('flannel-backend') ?? 'vxlan';
}

/** The effective value of a boolean flag (k3s defaults are false for every flag we read). */
export function boolFlag(args: K3sNodeArgs, name: string): boolean {
  const value = args.flags.get(name);
  return value === undefined ? false : parseGoBool(value) === true;
}
