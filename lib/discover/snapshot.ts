/**
 * The shapes of the API objects `discover` works on: read.ts reads them, discover.ts and
 * config-text.ts write a config from them. Types only, so both can import them without a cycle.
 */

/** The API objects discover reads; undefined where the API answered 404. */
export interface ClusterSnapshot {
  readonly context: string;
  /** The API URL the kubeconfig reached the cluster at, if it says. */
  readonly server?: string;
  readonly nodes: readonly ApiNode[];
  readonly calicoNode?: ApiWorkload;
  readonly calicoTypha?: ApiWorkload;
  /** Present when Calico is managed by the Tigera operator (its calico-system DaemonSet or the operator). */
  readonly tigeraOperator: boolean;
  readonly ipPools: readonly { readonly spec?: { readonly cidr?: string } }[];
  /** `calico_backend` of the kube-system/calico-config ConfigMap (`bird`, `vxlan` or `none`), if it could be read. */
  readonly calicoBackend?: string;
  readonly kubernetesService?: { readonly spec?: { readonly clusterIP?: string } };
  readonly cilium: boolean;
  readonly hcloudControllerManager: boolean;
  readonly snapshots: readonly { readonly status?: { readonly creationTime?: string; readonly readyToUse?: boolean } }[];
  /** Calico policies the deletion would destroy, by resource. */
  readonly calicoPolicies: Readonly<Record<string, number>>;
  /** The objects of the deletion set for the discovered version and manifest, by `Kind ns/name`. */
  readonly deletionSet?: { readonly present: readonly string[]; readonly absent: readonly string[] };
  /** Calico-named objects the deletion set does not cover, by `Kind ns/name`. */
  readonly uncovered: readonly string[];
}

export interface ApiNode {
  readonly metadata: { readonly name: string; readonly labels?: Record<string, string>; readonly annotations?: Record<string, string> };
  readonly spec?: { readonly providerID?: string; readonly podCIDR?: string };
  readonly status?: {
    readonly addresses?: readonly { readonly type: string; readonly address: string }[];
    readonly nodeInfo?: { readonly kubeletVersion?: string };
  };
}

export interface ApiWorkload {
  readonly spec?: {
    readonly template?: { readonly spec?: { readonly containers?: readonly { readonly name: string; readonly image?: string }[] } };
  };
}
