/**
 * Where the simulated kubelet binds a pending pod: what the scheduler's filters would allow for
 * the objects the tool and the fixture create (nodeName, cordon, taints and tolerations,
 * nodeSelector, `metadata.name` field affinity, required pod anti-affinity per hostname), the
 * node with the fewest pods first.
 */
type Json = Record<string, any>;

/** Whether the labels carry every key and value of the selector. */
export function labelsMatch(labels: Readonly<Record<string, string>> | undefined, selector: Readonly<Record<string, string>>): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** Whether the pod tolerates a taint (the scheduler's TaintToleration). */
export function tolerates(pod: Json, taint: Json): boolean {
  return (pod.spec.tolerations ?? []).some(
    (t: Json) =>
      (t.operator === 'Exists' && (t.key === undefined || t.key === taint.key)) ||
      (t.key === taint.key && (t.operator ?? 'Equal') === 'Equal' && (t.value ?? '') === (taint.value ?? '')),
  );
}

/**
 * Whether a pending pod may run on a node: nodeName; else not on a cordoned node (the scheduler's
 * NodeUnschedulable) or one with a NoSchedule/NoExecute taint the pod does not tolerate,
 * nodeSelector, `metadata.name` field affinity, required anti-affinity.
 */
export function fits(pod: Json, node: Json, pods: readonly Json[]): boolean {
  const spec = pod.spec;
  if (spec.nodeName) {
    return spec.nodeName === node.metadata.name;
  }
  if (node.spec?.unschedulable && !tolerates(pod, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' })) {
    return false;
  }
  if ((node.spec?.taints ?? []).some((t: Json) => t.effect !== 'PreferNoSchedule' && !tolerates(pod, t))) {
    return false;
  }
  if (!labelsMatch(node.metadata.labels, spec.nodeSelector ?? {})) {
    return false;
  }
  const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (
    terms &&
    !terms.some((t: Json) =>
      (t.matchFields ?? []).every((f: Json) =>
        f.key === 'metadata.name' ? (f.operator === 'In') === f.values.includes(node.metadata.name) : true,
      ),
    )
  ) {
    return false;
  }
  const anti: Json[] = spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
  return anti.every(
    (term) =>
      term.topologyKey !== 'kubernetes.io/hostname' ||
      !pods.some(
        (other) =>
          other.metadata.uid !== pod.metadata.uid &&
          other.spec.nodeName === node.metadata.name &&
          other.metadata.namespace === pod.metadata.namespace &&
          !['Succeeded', 'Failed'].includes(other.status?.phase) &&
          labelsMatch(other.metadata.labels, term.labelSelector?.matchLabels ?? {}),
      ),
  );
}

/** The nodes a pod may run on, the one with the fewest pods first. */
export function placement(pod: Json, nodeObjects: readonly Json[], pods: readonly Json[], down: ReadonlySet<string>): Json[] {
  const count = (node: Json) => pods.filter((p) => p.spec.nodeName === node.metadata.name).length;
  return nodeObjects.filter((n) => !down.has(n.metadata.name) && fits(pod, n, pods)).sort((a, b) => count(a) - count(b));
}
