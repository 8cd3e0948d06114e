/**
 * PLAN.md's checklist at the top: what must hold before the maintenance window, each item with
 * the check that proves it. A section of plan.ts, kept apart for its length.
 */
import { pausedHere } from '../config/maintenance.ts';
import type { ResolvedConfig } from '../config/resolve.ts';
import { durationSeconds } from '../duration.ts';
import { all, count } from '../words.ts';
import { POD_CIDRS } from './plan-network.ts';
import { applyCommand, argoInCluster, byEngine } from './plan-engine.ts';
import { disruption } from './plan-graph.ts';
import type { OutputOrigin, RenderedStep } from './rendered.ts';

/** One checklist item: what must hold (a title and its detail), and the command or check that proves it. */
interface Item {
  readonly what: string;
  readonly detail?: string;
  readonly check: string;
}

/** "Before the window": the checklist, or nothing once the migration is over. */
export function beforeTheWindow(config: ResolvedConfig, steps: readonly RenderedStep[], origin: OutputOrigin): string[] {
  if (config.phase === 'steady') {
    return [];
  }
  const items = [
    ...snapshot(config, steps),
    k3sSettings(config),
    ...network(config),
    engine(config, origin),
    consoleAccess(config),
    ...maintenanceWindow(config, steps),
    preflight(config, origin),
  ];
  return [
    '## Before the window',
    '',
    'Each item with what proves it. The preflight (step 000) checks what it names on the cluster and refuses to go on; the rest only you can check.',
    '',
    ...items.map((i) => `- [ ] **${i.what}**${i.detail ? ` ${i.detail}` : ''} Check: ${i.check}`),
    '',
  ];
}

/** The etcd snapshot the preflight requires before Calico is deleted, or its acknowledgement. */
function snapshot(config: ResolvedConfig, steps: readonly RenderedStep[]): Item[] {
  if (!steps.some((s) => s.step.kind === 'calico-delete')) {
    return [];
  }
  if (config.safety.acknowledgeNoSnapshot) {
    return [
      {
        what: 'A copy of the datastore by other means.',
        detail: '`safety.acknowledgeNoSnapshot` lets the preflight go on without an etcd snapshot.',
        check:
          'a copy of `/var/lib/rancher/k3s/server/db/` taken with k3s stopped on the server (SQLite), or your own etcd backup, restored once on a test machine.',
      },
    ];
  }
  const servers = config.cluster.nodes.filter((n) => n.role === 'server').length;
  return [
    {
      what: `An etcd snapshot younger than ${config.safety.maxSnapshotAge}.`,
      detail: 'Take one on a server with `k3s etcd-snapshot save` (`safety.maxSnapshotAge` sets the age).',
      check: `\`kubectl get etcdsnapshotfiles.k3s.cattle.io\` lists it; the preflight's \`snapshot\` check refuses without one.${
        servers === 1
          ? ' A single server without embedded etcd (SQLite, k3s’s default for one server) has no snapshots and fails this check: stop k3s, copy `/var/lib/rancher/k3s/server/db/`, start it again, and set `safety.acknowledgeNoSnapshot`.'
          : ''
      }`,
    },
  ];
}

function k3sSettings(config: ResolvedConfig): Item {
  const kpr = config.cilium.kubeProxyReplacementEnabled;
  return {
    what: 'The k3s settings on every server.',
    detail: `Those of "Before step 000: k3s server settings", installed by \`host/k3s-rollout.sh\`${kpr ? ' (kube-proxy stops with them)' : ''}.`,
    check:
      '`kubectl get nodes -o jsonpath=\'{range .items[*]}{.metadata.name}{"\\t"}{.metadata.annotations.k3s\\.io/node-args}{"\\n"}{end}\'` shows them; the preflight\'s `k3s-flags` check refuses otherwise.',
  };
}

/** What the network must do that the API does not show: the migration's tunnel, then the final routing. */
function network(config: ResolvedConfig): Item[] {
  const migration = config.cilium.migration;
  return [
    ...(migration ? [tunnel(migration.tunnelPort, "Cilium's own VXLAN beside Calico (`perNode.tunnelPort`)")] : []),
    ...finalRouting(config),
  ];
}

/** A VXLAN port every pair of nodes must pass, through every firewall between them. */
function tunnel(port: number, what: string): Item {
  return {
    what: `UDP ${port} between every pair of nodes.`,
    detail: `${what} passes host and provider firewalls both ways.`,
    check: 'the firewall rules of every node and of the provider allow it (Hetzner Cloud: `hcloud firewall describe <firewall>`).',
  };
}

function finalRouting(config: ResolvedConfig): Item[] {
  const { cluster } = config;
  const cilium = config.finalCilium;
  if (cilium.routingMode === 'tunnel') {
    return [tunnel(8472, 'The VXLAN tunnel')];
  }
  if (cluster.profile === 'hetzner-cloud') {
    const cc = cluster.network?.cloudController;
    return [
      {
        what: 'The cloud controller routes the pod CIDRs.',
        detail: `\`${cc?.namespace}/${cc?.name}\` runs with networking and routes on.`,
        check: "the preflight's `hcloud-ccm` check reads its settings and `hcloud-node` each node's providerID and pod CIDR.",
      },
      {
        what: "A route for every node's pod CIDR.",
        detail: `The network \`${cluster.network?.ipRange}\` routes each via that node's private address.`,
        check: `\`hcloud network describe <network>\` against ${POD_CIDRS}: no check can see the network's routes through the API.`,
      },
    ];
  }
  if (cluster.profile === 'hetzner-vswitch' || cilium.autoDirectNodeRoutes) {
    return [
      {
        what: 'Every node on one layer-2 segment.',
        detail: `Cilium routes each pod CIDR straight to its node${cluster.network?.vSwitchSubnet ? `, on the vSwitch \`${cluster.network.vSwitchSubnet}\`` : ''}.`,
        check:
          "the node preflight's `peer-routes` check (every other node on-link)" +
          (cluster.profile === 'hetzner-vswitch'
            ? " and the preflight's `vswitch-node` check (each InternalIP in the vSwitch subnet)."
            : '.'),
      },
    ];
  }
  return [
    {
      what: "A route for every node's pod CIDR.",
      detail: "Your router routes each via that node's address (`cluster.network.routesPodCIDRs`).",
      check: `the router's table against ${POD_CIDRS}; the node preflight's \`peer-routes\` check sees only the nodes' side.`,
    },
  ];
}

/** The engine that applies the steps, and whether it keeps working while the pod network is down. */
function engine(config: ResolvedConfig, origin: OutputOrigin): Item {
  const { gitops, cluster } = config;
  const outage = config.strategy === 'cutover';
  const workstation = `\`${applyCommand(origin)} --to 000 --dry-run=server --kubeconfig <kubeconfig>\` reaches the API server from the workstation`;
  const argo = argoInCluster(config)
    ? {
        detail: `The Argo CD of \`gitops.argocd.destinationServer\` (${gitops.argocd.destinationServer}) runs inside this cluster${outage ? ' and stops at step 100: register this cluster in a management Argo CD and name its address there, or use `apply`' : ''}.`,
        check: '`argocd cluster list` in the Argo CD that applies the steps shows this cluster',
      }
    : {
        detail: `Argo CD applies the steps from outside this cluster${outage ? ', so the outage does not stop it' : ''}.`,
        check: `\`argocd cluster list\` shows \`${gitops.argocd.destinationServer}\` in the Argo CD that applies the steps`,
      };
  const columns = 'NAME:.metadata.name,READY:.status.readyReplicas,HOSTNETWORK:.spec.template.spec.hostNetwork';
  const flux = outage
    ? {
        detail: `Flux applies the steps from outside this cluster, or from inside it with its controllers on the host network and the API at \`${cluster.apiServer.host}:${cluster.apiServer.port}\` (see the risks).`,
        check: `for a Flux in this cluster, \`kubectl -n ${gitops.flux.namespace} get deploy -o custom-columns=${columns}\` shows \`true\` for each controller`,
      }
    : {
        detail: 'Flux applies the steps.',
        check: `\`kubectl -n ${gitops.flux.namespace} get deploy -o custom-columns=${columns}\` shows each controller ready`,
      };
  const parts = byEngine(gitops.engine, { argocd: argo, flux });
  return {
    what: gitops.engine === 'both' ? 'One engine that applies the steps, and only one.' : 'An engine that applies the steps.',
    detail: `${parts.map((p) => p.detail).join(' Or: ')} Or \`apply\` from a workstation.`,
    check: `${parts.map((p) => p.check).join('; ')}; or ${workstation}.`,
  };
}

function consoleAccess(config: ResolvedConfig): Item {
  const check = {
    'hetzner-cloud': '`hcloud server request-console <server>` opens it for each server; log in once before the window.',
    'hetzner-vswitch':
      '`curl -u <robot-user> https://robot-ws.your-server.de/boot/<server-number>/rescue` answers for each Robot server (the rescue system it can boot; or a KVM console ordered in Robot), and a login tried once before the window.',
    generic:
      "the provider's out-of-band console (IPMI, KVM or the cloud's web console) opens for each node and takes a login, tried once before the window: `ssh` is not enough, it is what a wrong setting cuts.",
  } as const;
  return {
    what: `Console or rescue access to ${all(config.cluster.nodes.length, 'node')}.`,
    detail: 'For when a wrong setting cuts SSH.',
    check: check[config.cluster.profile],
  };
}

/** The window: how long nothing works, and what is paused. */
function maintenanceWindow(config: ResolvedConfig, steps: readonly RenderedStep[]): Item[] {
  const { maintenance } = config;
  const listed = pausedHere(maintenance);
  const cost =
    config.strategy === 'per-node' && config.phase === 'migrate'
      ? 'each restarts as its node is drained'
      : 'they fail their requests in the meantime';
  const paused =
    listed > 0
      ? `step 050 pauses ${count(listed, 'listed object')} (\`maintenance\`); each must exist, or the pause Job changes nothing and fails`
      : `no application is paused (\`maintenance\` lists none): ${cost}`;
  const span = disruption(config);
  const inside = steps.filter((s) => span?.kinds.includes(s.step.kind));
  const minutes = Math.ceil(inside.reduce((sum, s) => sum + durationSeconds(s.step.timeout), 0) / 60);
  const numbers = inside.map((s) => s.step.dir.split('-')[0]!);
  const bound = `at most ${minutes} minutes, the timeouts of steps ${[numbers.slice(0, -1).join(', '), numbers.at(-1)].filter((n) => n).join(' and ')} together: a step that takes longer has failed (see "If a step fails")`;
  const affected =
    listed > 0
      ? `after step 050, \`kubectl -n ${config.run.namespace} logs -l app.kubernetes.io/component=pause --tail=-1\` shows a PAUSED line per object`
      : '`kubectl get deployments,statefulsets,daemonsets -A` lists what fails its requests meanwhile';
  const remote = maintenance.remoteArgocd.map((a) => `-n ${a.namespace} application ${a.name}`);
  const remoteItems: Item[] =
    remote.length > 0
      ? [
          {
            what: `${count(remote.length, 'Argo CD Application')} in another cluster paused by hand.`,
            detail:
              '`maintenance.remoteArgocd` lists them and no Job here reaches them: turn their automated sync off before the window, and back on after it.',
            check: remote
              .map((t) => `\`kubectl --context <argocd-cluster> get ${t} -o jsonpath='{.spec.syncPolicy.automated}'\` prints nothing`)
              .join('; '),
          },
        ]
      : [];
  const pdb = '`kubectl get pdb -A`: a budget with ALLOWED DISRUPTIONS 0 stops a drain or an eviction until it allows one';
  const item: Item =
    config.strategy === 'cutover'
      ? {
          what: 'A maintenance window for the full outage.',
          detail: `From step 100 until step 250 has restarted the pods started under Calico${config.cilium.kubeProxyReplacementEnabled ? ' (for Services, from the k3s rollout)' : ''}; ${paused}.`,
          check: `${bound}; ${affected}.`,
        }
      : config.phase === 'migrate'
        ? {
            what: 'Every pod restarts, once for each node it runs on.',
            detail: `Node by node, as its node is drained (a pod rescheduled onto a node not moved yet restarts again when that one moves); ${paused}.`,
            check: `${pdb}.`,
          }
        : {
            what: 'A maintenance window for the full outage.',
            detail: `From the agents' restart in step 200 until step 250 has re-created every pod (\`perNode.acknowledgeSwitchOutage\`); ${paused}.`,
            check: `${bound}; ${config.run.deleteBrokenPods ? affected : `${pdb} (or set \`run.deleteBrokenPods\`: a pod without network is deleted instead)`}.`,
          };
  return [item, ...remoteItems];
}

function preflight(config: ResolvedConfig, origin: OutputOrigin): Item {
  const components = ['preflight', 'node-preflight', ...(config.strategy === 'per-node' ? ['per-node-preflight'] : [])];
  return {
    what: 'The preflight passes, and the Cilium images are on every node.',
    detail: 'Its node Jobs pull them on the host network, before anything changes.',
    check: `\`${applyCommand(origin)} --to 000 --kubeconfig <kubeconfig>\` runs step 000 alone; \`kubectl -n ${config.run.namespace} logs -l 'app.kubernetes.io/component in (${components.join(',')})' --prefix --tail=-1\` shows no FAIL line.`,
  };
}
