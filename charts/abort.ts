/**
 * What PLAN.md says for each step about failure: the cluster's state after it, how to see that it
 * failed, and what to do (retry, fix and resume, or back out).
 */
import type { ResolvedConfig } from '../lib/config/resolve.ts';

export interface AbortGuide {
  /** The cluster's state once the step succeeded. */
  readonly after: string;
  /** How a failure shows. */
  readonly failure: string;
  /** What to do: retry, fix and resume, or back out. */
  readonly action: string;
}

const RETRY = 'fix the cause, bump `run.attempt`, synth and sync (or delete the failed Job)';

export function preflightAbort(config: ResolvedConfig): AbortGuide {
  return {
    after: `nothing has changed yet: only the namespace \`${config.run.namespace}\`, read-only RBAC and the check Jobs exist, and the Cilium images are on every node.`,
    failure: `a Job of the step is Failed; \`kubectl logs -n ${config.run.namespace} -l app.kubernetes.io/component=preflight\` (and \`=node-preflight\`) shows the FAIL lines.`,
    action: `${RETRY}. To back out, delete the namespace \`${config.run.namespace}\`: the cluster is as it was.`,
  };
}

export function calicoDeleteAbort(config: ResolvedConfig): AbortGuide {
  return {
    after:
      config.strategy === 'per-node'
        ? 'Calico is gone; every node already runs its pods on Cilium, so no pod loses its network. The Calico custom resources (pools, IPAM, policies) are destroyed.'
        : 'Calico is gone: no pod has working networking until step 200, and the Calico custom resources (pools, IPAM, policies) are destroyed.',
    failure: `the Job is Failed; its log has a FAILED line per object it could not delete, or the pods that did not go away.`,
    action: `${RETRY}: every delete is idempotent, so the Job resumes where it stopped. To back out, apply the same \`calico.yaml\` (${config.calico.version}) again; recreate the policies from the inventory in the Job's log (calico-node recreates its default pool).`,
  };
}

export function nodeCleanupAbort(config: ResolvedConfig): AbortGuide {
  return {
    after: "Calico's leftovers are gone from every node (CNI files, rules, ipsets, routes, state directories).",
    failure: `a node's Job is Failed (a FAILED line: a refused iptables batch, a route flush) or stays Pending (the node is down); \`kubectl logs -n ${config.run.namespace} -l app.kubernetes.io/component=calico-cleanup --prefix\`.`,
    action: `${RETRY}, or reboot that node instead (\`host/rolling-reboot.sh --from <node>\`) and list it in \`run.skipNodes\`. Nothing here needs restoring: it only removes leftovers.`,
  };
}

export function ciliumAbort(config: ResolvedConfig): AbortGuide {
  const after =
    config.cilium.migration !== undefined
      ? 'Cilium runs on every node beside Calico, in tunnel mode on its own range; no node uses it for pods yet (Calico stays the CNI until a node step switches its node).'
      : config.strategy === 'per-node'
        ? 'Cilium runs with its final settings on every node; pods keep their migration-range addresses until step 250 restarts them.'
        : 'Cilium runs on every node; pods created from now on use it. Pods started under Calico keep their old addresses until restarted (the operator restarts unmanaged pods).';
  return {
    after,
    failure:
      'the `cilium` DaemonSet or `cilium-operator` Deployment does not become ready (Argo CD stays Progressing, the Flux Kustomization times out); `kubectl -n kube-system get pods -l k8s-app=cilium -o wide` and `kubectl -n kube-system logs ds/cilium -c cilium-agent`.',
    action:
      'fix the setting (a changed ConfigMap rolls the pods through the checksum annotation) and sync again. To back out, remove Cilium as described under "Removing Cilium", then reinstall a CNI.',
  };
}

export function kubeProxyCleanupAbort(config: ResolvedConfig): AbortGuide {
  return {
    after: "kube-proxy's iptables rules are gone: Cilium alone serves Services.",
    failure: `a node's Job is Failed: its agent was not healthy within 5 minutes, or iptables-restore refused the batch; \`kubectl logs -n ${config.run.namespace} -l app.kubernetes.io/component=kube-proxy-cleanup --prefix\`.`,
    action: `check the Cilium agent on that node, then ${RETRY}. Backing out needs nothing here: k3s recreates the rules if it runs kube-proxy again.`,
  };
}

export function verifyWorkloadsAbort(config: ResolvedConfig): AbortGuide {
  return {
    after: `the echo backend, its Service${config.verify.ingress ? ' and Ingress' : ''} run in \`${config.verify.namespace}\`.`,
    failure: `the \`echo\` Deployment does not become available: its pods stay Pending or ContainerCreating (\`kubectl -n ${config.verify.namespace} describe pods\`), which points at Cilium on that node.`,
    action: 'fix Cilium on that node and sync again. To back out, delete the namespace; nothing else depends on it.',
  };
}

export function verifyChecksAbort(config: ResolvedConfig): AbortGuide {
  return {
    after: 'every check passed; nothing was changed.',
    failure: `a check Job is Failed; \`kubectl logs -n ${config.verify.namespace} -l app.kubernetes.io/component=verify --prefix\` shows the FAIL line with the node, address or URL.`,
    action: `${RETRY}. A pod that still has a Calico address fails \`verify-cilium-health\` until it is restarted.`,
  };
}

export function completeAbort(): AbortGuide {
  return {
    after: 'the migration is recorded in `kube-system/cilium-cutover-status` and the sync is complete.',
    failure: 'it does not fail: it is applied only once every earlier step is healthy.',
    action: 'switch to `phase: steady` when you are ready (see below).',
  };
}

export function pauseAbort(config: ResolvedConfig): AbortGuide {
  return {
    after:
      'the listed Argo CD Applications no longer sync automatically, the listed Flux objects are suspended, and the listed workloads run no pods; each remembers its previous state in a `cilium-cutover.io/paused-*` annotation.',
    failure: `the Job is Failed; \`kubectl logs -n ${config.run.namespace} -l app.kubernetes.io/component=pause\` shows a FAILED line per object (a missing object changes nothing at all).`,
    action: `${RETRY}; pausing again keeps the remembered values. To back out, apply \`800-resume\` (or sync it): it restores exactly what was remembered.`,
  };
}

export function resumeAbort(config: ResolvedConfig): AbortGuide {
  return {
    after: 'every paused workload runs its remembered replicas again and the GitOps engines reconcile again.',
    failure: `the Job is Failed; \`kubectl logs -n ${config.run.namespace} -l app.kubernetes.io/component=resume\` names the objects it could not restore.`,
    action: `${RETRY}; objects already resumed are left as they are. By hand: set the replicas (or \`spec.suspend\`, or \`spec.syncPolicy.automated\`) from the object's \`cilium-cutover.io/paused-*\` annotation and remove the annotation.`,
  };
}
