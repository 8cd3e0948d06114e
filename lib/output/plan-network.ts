/**
 * PLAN.md's "Before step 000" sections on the network and on access: what the profile needs from
 * the network (the parts the preflight cannot see through the API), and the console access to
 * have before the window. Sections of plan.ts, kept apart for their length.
 */
import type { ResolvedConfig } from '../config/resolve.ts';

/** The command that lists each node's pod CIDR and address, which the network's routes must match. */
export const POD_CIDRS = '`kubectl get nodes -o custom-columns=NODE:.metadata.name,PODCIDR:.spec.podCIDR,IP:.status.addresses[0].address`';

/** What this profile and routing need from the network, and what the preflight checks of it. */
function needs(config: ResolvedConfig): string[] {
  const { cluster } = config;
  const cilium = config.finalCilium;
  const network = cluster.network;
  if (cilium.routingMode === 'tunnel') {
    return [
      `Tunnel mode: pod traffic between nodes is VXLAN on UDP 8472, so the network and every firewall between the nodes (host firewalls, provider firewalls, security groups) must pass UDP 8472 in both directions. Cilium takes the 50 bytes of VXLAN overhead off the MTU for the pods (${cilium.mtu === undefined ? 'the MTU it detects' : `${cilium.mtu} − 50 = ${cilium.mtu - 50}`}).`,
      ...(network?.cloudServers
        ? [
            `The cloud servers and the Robot servers reach each other's pods only through the tunnel: the Hetzner Cloud network \`${network.ipRange}\` carries the VXLAN packets between their private addresses, but holds no route to a Robot server's pods (a route's gateway cannot be an address behind a vSwitch, and the hcloud cloud controller routes no Robot server). The preflight checks that every Robot server's InternalIP lies in the vSwitch subnet \`${network.vSwitchSubnet}\`.`,
          ]
        : []),
      'A network on which Flannel VXLAN failed fails Cilium VXLAN the same way: find the cause first (a filtered port, a smaller MTU than the interface says), or use native routing.',
    ];
  }
  if (cluster.profile === 'hetzner-cloud') {
    return [
      `Native routing through the Hetzner Cloud network \`${network?.ipRange}\`: the hcloud cloud controller adds one route per node's pod CIDR, via that node's private address, to the network. The preflight checks its settings (networking and routes on, \`--cluster-cidr\`, host network, a ready pod) and on each node that traffic to the other nodes' pods leaves through the private interface.`,
      `The routes in the network itself are not visible through the Kubernetes API. Before step 000, check that \`hcloud network describe <network>\` lists a route for each pod CIDR of ${POD_CIDRS}, with that node's address as the gateway. A missing route drops every packet to that node's pods at the network's gateway once Calico is gone.`,
    ];
  }
  if (cluster.profile === 'hetzner-vswitch') {
    return [
      `Native routing with direct node routes on the vSwitch \`${network?.vSwitchSubnet}\`: Cilium routes each node's pod CIDR via that node's address, which works only between nodes on that one layer-2 segment. The preflight checks that every node's InternalIP lies in the vSwitch subnet and, on each node, that every other node is on-link (no gateway).`,
    ];
  }
  if (cilium.autoDirectNodeRoutes) {
    return [
      "Native routing with direct node routes: Cilium routes each node's pod CIDR via that node's address, which works only when every node is on one layer-2 segment. The preflight checks on each node that every other node is on-link (no gateway).",
    ];
  }
  return [
    `Native routing through your network (\`cluster.network.routesPodCIDRs\`): a router must hold a route for each node's pod CIDR via that node's address (${POD_CIDRS}), for every node, including nodes added later. The preflight checks on each node that traffic to the other nodes' pods leaves where traffic to those nodes does; it cannot see the router's routes.`,
  ];
}

/** "Before step 000: the network": what this profile needs, and the MTU. */
export function networkSection(config: ResolvedConfig): string[] {
  const cilium = config.finalCilium;
  return [
    '## Before step 000: the network',
    '',
    ...needs(config).flatMap((paragraph) => [paragraph, '']),
    ...(config.cilium.migration
      ? [
          `While Cilium runs beside Calico (this phase), it tunnels on its own VXLAN port, UDP ${config.cilium.migration.tunnelPort} (\`perNode.tunnelPort\`), which must pass between every pair of nodes too.`,
          '',
        ]
      : []),
    cilium.mtu === undefined
      ? 'MTU: Cilium takes it from the device.'
      : `MTU: Cilium is given ${cilium.mtu}; the preflight checks that the private interface of every node carries at least that.`,
    '',
  ];
}

/** "Before step 000: access": console access, and what 127.0.0.1:6444 is on a server. */
export function accessSection(config: ResolvedConfig): string[] {
  const { host, port } = config.cluster.apiServer;
  const local = host === '127.0.0.1' && port === 6444;
  return [
    '## Before step 000: access',
    '',
    "- **Console or rescue access to every node.** Cilium attaches its BPF programs to every native device it detects, the one your SSH session arrives on included; a wrong setting can cut SSH. Have the provider's console (Hetzner Cloud console, Robot KVM or rescue system) ready before the window.",
    ...(local
      ? [
          "- **`127.0.0.1:6444` on a server is that server's own API server.** On agents it balances over every server; on a server nothing takes over while its k3s restarts (the rollout restarts each), so that node's Cilium agent and Jobs wait for it.",
        ]
      : []),
    `- **Nodes added later** need the k3s settings above in their provisioning (cloud-init, Terraform, the installer's config): a server without \`flannel-backend: none\` or \`disable-network-policy\` does not join (k3s refuses a server whose critical settings differ)${config.finalCilium.kubeProxyReplacementEnabled ? ', and one without `disable-kube-proxy` runs kube-proxy beside Cilium' : ''}. List them in \`cluster.nodes\` and synth: the node check of \`900-complete\` runs again for them, after the migration too.`,
    '',
  ];
}
