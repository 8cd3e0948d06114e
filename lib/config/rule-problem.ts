/**
 * What every config rule file shares: the problem a rule reports and the CIDR parsing of values
 * the schema has already accepted.
 */
import { parseCidr, type Ipv4Cidr } from '../cidr.ts';

/** One broken rule, located by its field path. */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
}

/** A CIDR the schema has already accepted. */
export function cidrOf(text: string): Ipv4Cidr {
  // The schema accepted the value, so it parses.
  return parseCidr(text)!;
}
