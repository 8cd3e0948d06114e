/**
 * An API object given as plain JSON. cdk8s resolves and converts every typed object when it is
 * rendered (tokens, Quantity values, key sorting); for the one object per node and step a large
 * cluster has (the per-node Jobs) that is most of the synth time. This class takes JSON that is
 * already final (strings, numbers, booleans, lists and maps only, no undefined values) and renders
 * it as it is.
 */
import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';

export interface PlainObjectJson {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Readonly<Record<string, string>> };
  readonly [key: string]: unknown;
}

export class PlainApiObject extends ApiObject {
  private readonly json: PlainObjectJson;

  public constructor(scope: Construct, id: string, json: PlainObjectJson) {
    super(scope, id, { apiVersion: json.apiVersion, kind: json.kind, metadata: json.metadata });
    this.json = json;
  }

  public override toJson(): any {
    const { apiVersion, kind, metadata, ...rest } = this.json;
    return { apiVersion, kind, metadata: { ...metadata }, ...rest };
  }
}
