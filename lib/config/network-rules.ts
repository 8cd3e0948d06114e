/**
 * Cross-field rules on how pod traffic crosses between nodes: the vSwitch subnet on
 * hetzner-vswitch, and on generic a routing mode and a route to every pod CIDR that are stated,
 * never assumed.
 */
import { cidrContains, cidrContainsIp, parseIpv4 } from '../cidr.ts';
import type { Config } from './schema.ts';
import { cidrOf, type ConfigProblem } from './rule-problem.ts';

/**
 * hetzner-vswitch: the Robot servers share the vSwitch's layer-2 segment, which direct node routes
 * need, so the subnet is required and every node must be in it. Cloud servers coupled through a
 * Hetzner Cloud network sit in another subnet of that network's ip_range, and nothing routes pods
 * between them and the Robot servers, so that takes the tunnel (the hcloud controller's Robot guide,
 * docs/guides/robot/private-networks.md, says the same).
 */
export function checkVSwitch(config: Config): ConfigProblem[] {
  const { cluster } = config;
  const network = cluster.network;
  if (cluster.profile !== 'hetzner-vswitch') {
    return network?.vSwitchSubnet === undefined
      ? []
      : [{ path: 'cluster.network.vSwitchSubnet', message: `applies to profile hetzner-vswitch only, not ${cluster.profile}; remove it` }];
  }
  if (network?.vSwitchSubnet === undefined) {
    return [
      {
        path: 'cluster.network.vSwitchSubnet',
        message:
          "required for profile hetzner-vswitch; set it to the vSwitch's subnet (the Robot servers' private addresses, e.g. 10.1.0.0/24), so no node on a public address is routed to directly",
      },
    ];
  }
  const subnet = cidrOf(network.vSwitchSubnet);
  if (network.cloudServers) {
    if (network.ipRange === undefined) {
      return [
        {
          path: 'cluster.network.ipRange',
          message:
            "required with cloudServers; set it to the Hetzner Cloud network's ip_range, which holds the vSwitch subnet and the cloud servers' subnet",
        },
      ];
    }
    if (!cidrContains(cidrOf(network.ipRange), subnet)) {
      return [
        {
          path: 'cluster.network.vSwitchSubnet',
          message: `${subnet.text} is outside cluster.network.ipRange ${network.ipRange}, but a vSwitch coupled to a Hetzner Cloud network is one of its subnets; fix either`,
        },
      ];
    }
    if (config.cilium.routingMode !== 'tunnel') {
      // Hetzner Cloud API: a route's gateway cannot be an address behind a vSwitch; the hcloud
      // cloud controller refuses routes with Robot support (internal/config/config.go Validate).
      return [
        {
          path: 'cluster.network.cloudServers',
          message:
            'true needs cilium.routingMode: tunnel: nothing can route pods between cloud and Robot servers (a Hetzner network route cannot point at a vSwitch address, and the hcloud cloud controller routes no Robot server); set cilium.routingMode: tunnel',
        },
      ];
    }
  }
  return cluster.nodes.flatMap((node, i): ConfigProblem[] =>
    cidrContainsIp(subnet, parseIpv4(node.internalIP)!) || network.cloudServers
      ? []
      : [
          {
            path: `cluster.nodes[${i}].internalIP`,
            message: `${node.internalIP} is outside cluster.network.vSwitchSubnet ${subnet.text}: Cilium's direct routes would point at an address off the vSwitch; start k3s with --node-ip on the vSwitch interface and list that address (or set cloudServers for cloud servers)`,
          },
        ],
  );
}

/**
 * How pod traffic crosses between nodes is stated, never assumed: on generic, native routing with
 * no route to the other nodes' pod CIDRs blackholes it, and the tunnel has its own needs (UDP 8472
 * passing between nodes) that a network where VXLAN already failed may not meet.
 */
export function checkRouting(config: Config): ConfigProblem[] {
  const { cluster, cilium } = config;
  const routes = cluster.network?.routesPodCIDRs === true;
  if (cluster.profile === 'generic' && cilium.routingMode === undefined) {
    return [
      {
        path: 'cilium.routingMode',
        message:
          'required for profile generic; set native (with autoDirectNodeRoutes: true when the nodes share a layer-2 segment, or cluster.network.routesPodCIDRs: true when your router routes each pod CIDR) or tunnel (VXLAN: the network must pass UDP 8472 between nodes; pods get 50 bytes less than the MTU)',
      },
    ];
  }
  if (routes && (cluster.profile !== 'generic' || cilium.routingMode !== 'native')) {
    return [
      {
        path: 'cluster.network.routesPodCIDRs',
        message: `applies to profile generic with routingMode native only (here ${cluster.profile}, ${cilium.routingMode ?? 'native'}); remove it`,
      },
    ];
  }
  if (cluster.profile === 'generic' && cilium.routingMode === 'native' && cilium.autoDirectNodeRoutes !== true && !routes) {
    return [
      {
        path: 'cilium.autoDirectNodeRoutes',
        message:
          "native routing on generic needs a route to every node's pod CIDR, and nothing installs one: set cilium.autoDirectNodeRoutes: true (all nodes on one layer-2 segment), or cluster.network.routesPodCIDRs: true once your router routes each node's pod CIDR via that node, or routingMode: tunnel",
      },
    ];
  }
  return [];
}

/** True when the names two interface patterns (a name, or a prefix and `+`) match can overlap. */
function patternsMeet(a: string, b: string): boolean {
  const prefix = (p: string) => (p.endsWith('+') ? p.slice(0, -1) : p);
  if (a.endsWith('+') && b.endsWith('+')) {
    return prefix(a).startsWith(prefix(b)) || prefix(b).startsWith(prefix(a));
  }
  if (a.endsWith('+')) {
    return b.startsWith(prefix(a));
  }
  if (b.endsWith('+')) {
    return a.startsWith(prefix(b));
  }
  return a === b;
}

/**
 * Cilium picks the direct-routing device among the devices it attaches to
 * (pkg/datapath/tables/direct_routing_device.go; 1.15 fails with "unable to determine direct
 * routing device" when none matches), so with both set it must be one of them.
 */
export function checkDevices(config: Config): ConfigProblem[] {
  const { devices, directRoutingDevice } = config.cilium;
  if (devices === undefined || directRoutingDevice === undefined || devices.some((d) => patternsMeet(d, directRoutingDevice))) {
    return [];
  }
  return [
    {
      path: 'cilium.directRoutingDevice',
      message: `"${directRoutingDevice}" is none of cilium.devices (${devices.join(', ')}), and Cilium picks it among them; add it to cilium.devices`,
    },
  ];
}
