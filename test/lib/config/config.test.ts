import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lib/config/load.ts';
import { exampleConfig, exampleData, load, loadError } from '../../support/helpers.ts';

/** The message a config change produces, or undefined when it loads. */
function errorOf(edit: (d: Record<string, any>) => void): string | undefined {
  const data = exampleData();
  edit(data);
  return loadError(data);
}

describe('the example config', () => {
  it('loads with the values it states', () => {
    const config = exampleConfig();
    expect(config.cluster.nodes.map((n) => n.name)).toEqual(['k3s-server-1', 'k3s-server-2', 'k3s-server-3']);
    expect(config.cluster.network?.ipRange).toBe('10.0.0.0/8');
    expect(config.calico.version).toBe('v3.27.0');
    expect(config.cilium.version.version).toBe('1.20.0');
    expect(config.cilium.kubeProxyReplacement).toBe('true');
    expect(config.cilium.kubeProxyReplacementEnabled).toBe(true);
  });
});

describe('defaults', () => {
  it('fills schema defaults for every optional section', () => {
    const config = exampleConfig((d) => {
      delete d.cilium;
      delete d.verify;
      delete d.run;
      delete d.cluster.apiServer;
      delete d.cluster.podCIDR;
      delete d.cluster.serviceCIDR;
      d.gitops = { repoURL: d.gitops.repoURL, argocd: { destinationServer: 'https://10.0.0.2:6443' } };
    });
    expect(config.cluster.apiServer).toEqual({ host: '127.0.0.1', port: 6444 });
    expect(config.cluster.podCIDR).toBe('10.42.0.0/16');
    expect(config.cluster.serviceCIDR).toBe('10.43.0.0/16');
    expect(config.cilium.version.version).toBe('1.20.0');
    expect(config.cilium.routingMode).toBe('native');
    expect(config.cilium.kubeProxyReplacement).toBe('true');
    expect(config.cilium.ipamMode).toBe('kubernetes');
    expect(config.cilium.bpfMasquerade).toBe(true);
    expect(config.gitops).toMatchObject({ engine: 'both', path: 'dist', revision: 'main' });
    expect(config.gitops.argocd).toEqual({
      namespace: 'argocd',
      project: 'default',
      destinationServer: 'https://10.0.0.2:6443',
      automated: false,
    });
    expect(config.gitops.flux).toEqual({ namespace: 'flux-system', interval: '10m' });
    expect(config.verify).toEqual({
      enabled: true,
      namespace: 'cilium-cutover-verify',
      externalURLs: ['https://one.one.one.one/'],
      skip: [],
      ingress: {
        className: 'traefik',
        controller: 'service',
        host: 'echo.cilium-cutover.invalid',
        port: 80,
        service: { namespace: 'kube-system', name: 'traefik' },
      },
      limits: { wait: '10m', window: '3m', consecutive: 3, payloadBytes: 65536 },
    });
    expect(config.run).toEqual({ retries: [], namespace: 'cilium-cutover', deleteBrokenPods: false, skipNodes: [] });
    expect(config.phase).toBe('migrate');
    expect(config.safety).toEqual({ maxSnapshotAge: '24h', acknowledgeNoSnapshot: false, acknowledgeDroppedPolicies: false });
    expect(config.images.node.repository).toBe('docker.io/library/node');
  });

  it('native routing CIDR defaults to the pod CIDR', () => {
    expect(exampleConfig((d) => (d.cluster.podCIDR = '10.44.0.0/16')).cilium.ipv4NativeRoutingCIDR).toBe('10.44.0.0/16');
  });

  const profiles = [
    { profile: 'hetzner-cloud', mtu: 1450, direct: false, network: {} },
    { profile: 'hetzner-vswitch', mtu: 1400, direct: true, network: { vSwitchSubnet: '10.0.0.0/24' } },
    { profile: 'generic', mtu: undefined, direct: false, network: { routesPodCIDRs: true } },
  ];
  for (const spec of profiles) {
    it(`profile ${spec.profile}: MTU ${spec.mtu ?? 'auto'}, autoDirectNodeRoutes ${spec.direct}`, () => {
      const config = exampleConfig((d) => {
        d.cluster.profile = spec.profile;
        Object.assign(d.cluster.network, spec.network);
        delete d.cilium.MTU;
      });
      expect(config.cilium.mtu).toBe(spec.mtu);
      expect(config.cilium.autoDirectNodeRoutes).toBe(spec.direct);
    });
  }

  it('never skips unreachable nodes unless asked, and turns direct routes off in tunnel mode', () => {
    expect(exampleConfig().cilium.directRoutingSkipUnreachable).toBe(false);
    expect(exampleConfig((d) => (d.cilium.version = '1.15.2')).cilium.directRoutingSkipUnreachable).toBeUndefined();
    // Cilium: "auto-direct-node-routes cannot be used with tunneling" (daemon_main.go).
    const tunnel = exampleConfig((d) => {
      d.cluster.profile = 'hetzner-vswitch';
      d.cluster.network = { ipRange: '10.0.0.0/8', vSwitchSubnet: '10.0.0.0/24', cloudServers: true };
      d.cilium.routingMode = 'tunnel';
      d.cilium.MTU = 1400;
    });
    expect([tunnel.cilium.autoDirectNodeRoutes, tunnel.cilium.directRoutingSkipUnreachable]).toEqual([false, false]);
  });

  it('operator replicas: 1 up to two nodes, else 2, unless set', () => {
    expect(exampleConfig().cilium.operatorReplicas).toBe(2);
    expect(exampleConfig((d) => d.cluster.nodes.splice(2)).cilium.operatorReplicas).toBe(1);
    expect(exampleConfig((d) => (d.cilium.operator = { replicas: 3 })).cilium.operatorReplicas).toBe(3);
  });
});

describe('cross-field rules', () => {
  const cases: { name: string; edit: (d: Record<string, any>) => void; message: string }[] = [
    {
      name: 'pod and service CIDRs overlap',
      edit: (d) => (d.cluster.serviceCIDR = '10.42.128.0/17'),
      message:
        "cluster.serviceCIDR: 10.42.128.0/17 overlaps cluster.podCIDR 10.42.0.0/16; use the cluster's running values, which never overlap",
    },
    {
      name: 'a node address inside the pod CIDR',
      edit: (d) => (d.cluster.nodes[1].internalIP = '10.42.0.7'),
      message:
        'cluster.nodes[1].internalIP: 10.42.0.7 lies inside cluster.podCIDR 10.42.0.0/16; node addresses and pod CIDR must not overlap',
    },
    {
      name: 'a node address inside the service CIDR',
      edit: (d) => (d.cluster.nodes[2].internalIP = '10.43.1.1'),
      message:
        'cluster.nodes[2].internalIP: 10.43.1.1 lies inside cluster.serviceCIDR 10.43.0.0/16; node addresses and service CIDR must not overlap',
    },
    {
      name: 'duplicate node names',
      edit: (d) => (d.cluster.nodes[2].name = 'k3s-server-1'),
      message: 'cluster.nodes[2].name: "k3s-server-1" is listed twice (also cluster.nodes[0]); list each node once',
    },
    {
      name: 'duplicate node addresses',
      edit: (d) => (d.cluster.nodes[1].internalIP = '10.0.0.2'),
      message: 'cluster.nodes[1].internalIP: 10.0.0.2 is also the address of cluster.nodes[0]; give each node its own InternalIP',
    },
    {
      name: 'no server',
      edit: (d) => d.cluster.nodes.forEach((n: any) => (n.role = 'agent')),
      message: 'cluster.nodes: no node has role server; a k3s cluster has at least one server, list it',
    },
    {
      name: 'hetzner-cloud without the network range',
      edit: (d) => delete d.cluster.network,
      message: "cluster.network.ipRange: required for profile hetzner-cloud; set it to the Hetzner network's ip_range (e.g. 10.0.0.0/8)",
    },
    {
      name: 'hetzner-cloud with the pod CIDR outside the network range',
      edit: (d) => {
        d.cluster.network.ipRange = '10.0.0.0/16';
      },
      message:
        "cluster.podCIDR: 10.42.0.0/16 is outside cluster.network.ipRange 10.0.0.0/16, so nodes send pod traffic out of the public interface; widen the Hetzner network's ip_range to contain the pod CIDR (e.g. 10.0.0.0/8)",
    },
    {
      name: 'a node outside the network range',
      edit: (d) => (d.cluster.nodes[0].internalIP = '192.168.1.2'),
      message:
        "cluster.nodes[0].internalIP: 192.168.1.2 is outside cluster.network.ipRange 10.0.0.0/8; use the node's private-network address",
    },
    {
      name: 'hetzner-cloud above 100 nodes',
      edit: (d) => {
        d.cluster.nodes = Array.from({ length: 101 }, (_, i) => ({ name: `n${i}`, role: 'server', internalIP: `10.0.1.${i + 1}` }));
      },
      message:
        'cluster.nodes: 101 nodes, but a Hetzner Cloud network holds at most 100 servers and routes; split the cluster or use profile generic with another routing method',
    },
    {
      name: 'native routing CIDR that does not contain the pod CIDR',
      edit: (d) => (d.cilium.ipv4NativeRoutingCIDR = '10.42.0.0/17'),
      message:
        'cilium.ipv4NativeRoutingCIDR: 10.42.0.0/17 does not contain cluster.podCIDR 10.42.0.0/16, so pod traffic would be masqueraded; remove it (defaults to the pod CIDR) or widen it',
    },
    {
      name: 'kube-proxy-replacement strict on 1.16+',
      edit: (d) => (d.cilium.kubeProxyReplacement = 'strict'),
      message: 'cilium.kubeProxyReplacement: "strict" is not accepted by Cilium 1.20.0 (the agent would not start); use true or false',
    },
    {
      name: 'direct node routes on hetzner-cloud',
      edit: (d) => (d.cilium.autoDirectNodeRoutes = true),
      message:
        'cilium.autoDirectNodeRoutes: true cannot work on hetzner-cloud (the network is layer 3; routes come from the hcloud cloud controller); remove it',
    },
    {
      name: 'direct node routes with tunnel mode',
      edit: (d) => {
        d.cluster.profile = 'generic';
        d.cilium.routingMode = 'tunnel';
        d.cilium.autoDirectNodeRoutes = true;
      },
      message: 'cilium.autoDirectNodeRoutes: true needs routingMode native; remove it or set routingMode: native',
    },
    {
      name: 'cloud servers on a profile other than hetzner-vswitch',
      edit: (d) => (d.cluster.network.cloudServers = true),
      message: 'cluster.network.cloudServers: applies to profile hetzner-vswitch only, not hetzner-cloud; remove it',
    },
    {
      name: 'a vSwitch with cloud servers and native routing',
      edit: (d) => {
        d.cluster.profile = 'hetzner-vswitch';
        d.cluster.network.vSwitchSubnet = '10.0.0.0/24';
        d.cluster.network.cloudServers = true;
        d.cilium.MTU = 1400;
      },
      message:
        'cluster.network.cloudServers: true needs cilium.routingMode: tunnel: nothing can route pods between cloud and Robot servers (a Hetzner network route cannot point at a vSwitch address, and the hcloud cloud controller routes no Robot server); set cilium.routingMode: tunnel',
    },
    {
      name: 'a vSwitch subnet outside the network it is coupled to',
      edit: (d) => {
        d.cluster.profile = 'hetzner-vswitch';
        d.cluster.network = { ipRange: '10.0.0.0/16', vSwitchSubnet: '10.1.0.0/24', cloudServers: true };
        d.cilium.routingMode = 'tunnel';
        d.cilium.MTU = 1400;
      },
      message:
        'cluster.network.vSwitchSubnet: 10.1.0.0/24 is outside cluster.network.ipRange 10.0.0.0/16, but a vSwitch coupled to a Hetzner Cloud network is one of its subnets; fix either',
    },
    {
      name: 'skipping unreachable nodes without direct routes',
      edit: (d) => (d.cilium.directRoutingSkipUnreachable = true),
      message:
        'cilium.directRoutingSkipUnreachable: true needs direct node routes (routingMode native and autoDirectNodeRoutes true), or the agent does not start; remove it',
    },
    {
      name: 'direct-routing-skip-unreachable on 1.15',
      edit: (d) => {
        d.cilium.version = '1.15.2';
        d.cilium.directRoutingSkipUnreachable = true;
      },
      message:
        'cilium.directRoutingSkipUnreachable: does not exist in Cilium 1.15.2 (1.16 and newer); remove it or choose a newer cilium.version',
    },
    {
      name: 'MTU above the profile limit',
      edit: (d) => (d.cilium.MTU = 1500),
      message: 'cilium.MTU: 1500 is above what profile hetzner-cloud carries (1450); set 1450 or less',
    },
    {
      name: 'generic without a routing mode',
      edit: (d) => {
        d.cluster.profile = 'generic';
        delete d.cilium.routingMode;
        delete d.cilium.MTU;
      },
      message:
        'cilium.routingMode: required for profile generic; set native (with autoDirectNodeRoutes: true when the nodes share a layer-2 segment, or cluster.network.routesPodCIDRs: true when your router routes each pod CIDR) or tunnel (VXLAN: the network must pass UDP 8472 between nodes; pods get 50 bytes less than the MTU)',
    },
    {
      name: 'native routing on generic with nothing that routes the pod CIDRs',
      edit: (d) => {
        d.cluster.profile = 'generic';
        delete d.cilium.MTU;
      },
      message:
        "cilium.autoDirectNodeRoutes: native routing on generic needs a route to every node's pod CIDR, and nothing installs one: set cilium.autoDirectNodeRoutes: true (all nodes on one layer-2 segment), or cluster.network.routesPodCIDRs: true once your router routes each node's pod CIDR via that node, or routingMode: tunnel",
    },
    {
      name: 'routesPodCIDRs where the cloud controller routes',
      edit: (d) => (d.cluster.network.routesPodCIDRs = true),
      message:
        'cluster.network.routesPodCIDRs: applies to profile generic with routingMode native only (here hetzner-cloud, native); remove it',
    },
    {
      name: 'routesPodCIDRs in tunnel mode',
      edit: (d) => {
        d.cluster.profile = 'generic';
        d.cilium.routingMode = 'tunnel';
        d.cluster.network.routesPodCIDRs = true;
        delete d.cilium.MTU;
      },
      message: 'cluster.network.routesPodCIDRs: applies to profile generic with routingMode native only (here generic, tunnel); remove it',
    },
    {
      name: 'hetzner-cloud with a network but no ipRange',
      edit: (d) => (d.cluster.network = { cloudController: { name: 'hccm' } }),
      message: "cluster.network.ipRange: required for profile hetzner-cloud; set it to the Hetzner network's ip_range (e.g. 10.0.0.0/8)",
    },
    {
      name: 'hetzner-vswitch without the vSwitch subnet',
      edit: (d) => {
        d.cluster.profile = 'hetzner-vswitch';
        delete d.cilium.MTU;
      },
      message:
        "cluster.network.vSwitchSubnet: required for profile hetzner-vswitch; set it to the vSwitch's subnet (the Robot servers' private addresses, e.g. 10.1.0.0/24), so no node on a public address is routed to directly",
    },
    {
      name: 'a hetzner-vswitch node outside the vSwitch subnet (a public address)',
      edit: (d) => {
        d.cluster.profile = 'hetzner-vswitch';
        d.cluster.network = { vSwitchSubnet: '10.0.0.0/24' };
        d.cluster.nodes[2].internalIP = '88.99.10.4';
        delete d.cilium.MTU;
      },
      message:
        "cluster.nodes[2].internalIP: 88.99.10.4 is outside cluster.network.vSwitchSubnet 10.0.0.0/24: Cilium's direct routes would point at an address off the vSwitch; start k3s with --node-ip on the vSwitch interface and list that address (or set cloudServers for cloud servers)",
    },
    {
      name: 'hetzner-vswitch with cloud servers but no ipRange',
      edit: (d) => {
        d.cluster.profile = 'hetzner-vswitch';
        d.cluster.network = { vSwitchSubnet: '10.0.0.0/24', cloudServers: true };
        delete d.cilium.MTU;
      },
      message:
        "cluster.network.ipRange: required with cloudServers; set it to the Hetzner Cloud network's ip_range, which holds the vSwitch subnet and the cloud servers' subnet",
    },
    {
      name: 'a vSwitch subnet on another profile',
      edit: (d) => (d.cluster.network.vSwitchSubnet = '10.0.0.0/24'),
      message: 'cluster.network.vSwitchSubnet: applies to profile hetzner-vswitch only, not hetzner-cloud; remove it',
    },
    {
      name: 'a direct-routing device that is none of the devices',
      edit: (d) => {
        d.cilium.devices = ['eth0', 'eth1'];
        d.cilium.directRoutingDevice = 'enp7s0';
      },
      message:
        'cilium.directRoutingDevice: "enp7s0" is none of cilium.devices (eth0, eth1), and Cilium picks it among them; add it to cilium.devices',
    },
    {
      name: 'an interface name with a slash',
      edit: (d) => (d.cilium.devices = ['eth0', 'bond0/1']),
      message: 'cilium.devices[1]: expected a network interface name like eth1 (a trailing + matches a prefix: enp+), got "bond0/1"',
    },
    {
      name: 'an interface name longer than the kernel takes',
      edit: (d) => (d.cilium.directRoutingDevice = 'enp7s0-private-1'),
      message:
        'cilium.directRoutingDevice: expected a network interface name like enp7s0 (a trailing + matches a prefix), got "enp7s0-private-1"',
    },
  ];
  for (const spec of cases) {
    it(`rejects ${spec.name}`, () => {
      expect(errorOf(spec.edit)).toBe(spec.message);
    });
  }

  it('routes natively on the Hetzner profiles when routingMode is not set; takes devices that match by wildcard', () => {
    expect(exampleConfig((d) => delete d.cilium.routingMode).cilium.routingMode).toBe('native');
    const devices = exampleConfig((d) => ((d.cilium.devices = ['eth0', 'enp+']), (d.cilium.directRoutingDevice = 'enp7s0'))).cilium;
    expect([devices.devices, devices.directRoutingDevice]).toEqual([['eth0', 'enp+'], 'enp7s0']);
    expect(
      exampleConfig((d) => ((d.cilium.devices = ['enp7s0']), (d.cilium.directRoutingDevice = 'enp+'))).cilium.directRoutingDevice,
    ).toBe('enp+');
  });

  it('accepts strict on 1.15 with a deprecation warning', () => {
    const data = exampleData();
    data.cilium.version = '1.15.19';
    data.cilium.kubeProxyReplacement = 'strict';
    const loaded = load(data);
    expect(loaded.config.cilium.kubeProxyReplacement).toBe('strict');
    expect(loaded.warnings).toContain(
      'cilium.kubeProxyReplacement: "strict" is deprecated and removed in Cilium 1.16; "true" is the supported spelling',
    );
  });

  it("warns when a Calico pool holds the nodes' own addresses, naming pool and nodes; refuses turning the route cleanup off then", () => {
    const data = exampleData();
    // The unmodified manifest's pool, on a network of 192.168.100.0/24.
    data.calico.ipPools = ['10.42.0.0/16', '192.168.0.0/16'];
    data.cluster.profile = 'generic';
    delete data.cluster.network;
    data.cilium.autoDirectNodeRoutes = true;
    data.cluster.nodes = data.cluster.nodes.map((n: any, i: number) => ({ ...n, internalIP: `192.168.100.${i + 2}` }));
    expect(load(data).warnings).toContain(
      "calico.ipPools[1] 192.168.0.0/16 contains the address of k3s-server-1 (192.168.100.2), k3s-server-2 (192.168.100.3), k3s-server-3 (192.168.100.4): Calico's routes for this pool lie in the node network, so step 110 must flush them (keep cleanup.birdRoutes on)",
    );
    data.calico.ipPools = ['192.168.0.0/16'];
    data.cluster.podCIDR = '10.42.0.0/16';
    data.cleanup = { ...data.cleanup, birdRoutes: false };
    expect(loadError(data)).toBe(
      "cleanup.birdRoutes: false, but calico.ipPools[0] 192.168.0.0/16 contains node k3s-server-1's address 192.168.100.2: Calico's routes there would stay in the node network; remove the setting",
    );
  });

  it('warns for end-of-life Cilium versions only', () => {
    const eol = exampleData();
    eol.cilium.version = '1.16.19';
    expect(load(eol).warnings).toEqual([
      'cilium.version: 1.16.19 is end-of-life upstream (no security fixes); prefer a maintained version',
    ]);
    expect(load(exampleData()).warnings).toEqual([]);
  });
});

describe('field errors', () => {
  it('names the field, shows the value and the allowed range', () => {
    expect(errorOf((d) => (d.cilium.MTU = 'big'))).toBe('cilium.MTU: expected an integer 576–9000, got "big"');
    expect(errorOf((d) => (d.cilium.MTU = 9001))).toBe('cilium.MTU: expected an integer 576–9000, got 9001');
    expect(errorOf((d) => (d.cluster.podCIDR = '10.42.0.1/16'))).toBe(
      'cluster.podCIDR: expected an IPv4 CIDR with the host bits zero, like 10.42.0.0/16, got "10.42.0.1/16"',
    );
    expect(errorOf((d) => (d.cilium.version = '1.14.0'))).toMatch(
      /^cilium\.version: Cilium "1\.14\.0" is not in the release table \(1\.15\.0 to 1\.20\.0; .*"Adding a release"\)$/,
    );
  });

  it('takes only an IP address or a DNS name as the API server host, which every Cilium container gets as KUBERNETES_SERVICE_HOST', () => {
    for (const host of [
      'http://127.0.0.1',
      '127.0.0.1:6443',
      'k3s.example.com/api',
      'bad_name.example.com',
      '-lead.example.com',
      ' 10.0.0.2',
    ]) {
      expect(
        errorOf((d) => (d.cluster.apiServer.host = host)),
        host,
      ).toBe(
        `cluster.apiServer.host: expected an IP address or a DNS name (no scheme, port or path), got ${JSON.stringify(host)}; the port goes in cluster.apiServer.port`,
      );
    }
    for (const host of ['10.0.0.2', 'fd00::2', 'k3s-api.example.com', 'API.Example.Internal', 'localhost']) {
      expect(
        errorOf((d) => (d.cluster.apiServer.host = host)),
        host,
      ).toBeUndefined();
    }
  });

  it('reports a misspelt key before the missing one it hides, with a suggestion', () => {
    expect(
      errorOf((d) => {
        d.cluster.nodes[0].internalIp = d.cluster.nodes[0].internalIP;
        delete d.cluster.nodes[0].internalIP;
      }),
    ).toBe('cluster.nodes[0].internalIp: unknown key; did you mean "internalIP"?');
  });

  it('lists the allowed keys when nothing is close', () => {
    expect(errorOf((d) => (d.gitops.webhook = true))).toBe(
      'gitops.webhook: unknown key; remove it (allowed here: engine, repoURL, path, revision, argocd, flux)',
    );
  });

  it('explains the keys of the original plan', () => {
    expect(errorOf((d) => (d.cilium.tunnel = 'disabled'))).toBe(
      'cilium.tunnel: unknown key; removed in Cilium 1.15 (ignored silently, so the agent stays in tunnel mode); use routingMode: native',
    );
  });

  it('explains run.attempt, which run.retries replaced, and refuses a retry that is not a step directory', () => {
    expect(errorOf((d) => (d.run.attempt = 2))).toBe(
      'run.attempt: unknown key; replaced by run.retries, which re-runs a failed step and the later ones but never the earlier ones; remove it, and list the step to run again (run.retries: [110-node-cleanup])',
    );
    expect(errorOf((d) => (d.run.retries = ['110']))).toBe(
      'run.retries[0]: expected a step directory such as "110-node-cleanup", got "110"',
    );
  });
});

describe('YAML safety', () => {
  const fail = (text: string): string => {
    try {
      parseConfig(text, 'c.yaml');
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('expected the config to be rejected');
  };

  it('rejects duplicate keys with their position', () => {
    expect(fail('cluster:\n  name: a\n  name: b\n')).toBe('c.yaml:3:3: Map keys must be unique; fix the YAML there');
  });

  it('rejects alias bombs before expanding them', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    expect(fail(`${lines.join('\n')}\n`)).toMatch(/^c\.yaml: Excessive alias count.*; write the values out instead of using many aliases$/);
  });

  it('rejects empty and comment-only files, and non-mappings', () => {
    expect(fail('')).toBe('c.yaml: the file is empty; start from examples/hetzner-3-servers.yaml');
    expect(fail('# nothing\n\n')).toBe('c.yaml: the file is empty; start from examples/hetzner-3-servers.yaml');
    expect(fail('- a\n- b\n')).toBe(
      'c.yaml: expected a mapping with the sections cluster, calico, cilium, gitops; see examples/hetzner-3-servers.yaml',
    );
  });

  it('does not turn YAML 1.1 tags into values', () => {
    expect(fail('cluster: !!binary aGVsbG8=\n')).toMatch(/^c\.yaml:1:10: .*; fix the YAML there$/);
  });
});

describe('the namespaces the tool creates', () => {
  it('refuse a namespace of Kubernetes, Calico, Cilium or a GitOps engine, naming whose it is', () => {
    const cases: [string, string, (d: Record<string, any>) => void, RegExp][] = [
      ['run.namespace', 'argocd', (d) => (d.run = { ...d.run, namespace: 'argocd' }), /is Argo CD's namespace/],
      ['verify.namespace', 'default', (d) => (d.verify = { ...d.verify, namespace: 'default' }), /is Kubernetes' default namespace/],
      ['run.namespace', 'kube-system', (d) => (d.run = { ...d.run, namespace: 'kube-system' }), /is Kubernetes' system namespace/],
      ['run.namespace', 'calico-system', (d) => (d.run = { ...d.run, namespace: 'calico-system' }), /which step 100 deletes/],
      ['verify.namespace', 'cilium-secrets', (d) => (d.verify = { ...d.verify, namespace: 'cilium-secrets' }), /Cilium's own namespace/],
      // Graduation deletes run.namespace and verify.namespace with everything in them.
      [
        'verify.namespace',
        'cilium-cutover-inventory',
        (d) => (d.verify = { ...d.verify, namespace: 'cilium-cutover-inventory' }),
        /is the Calico inventory's namespace \(step 100\), which must outlive the migration/,
      ],
      [
        'run.namespace',
        'gitops',
        (d) => {
          d.gitops.flux = { ...d.gitops.flux, namespace: 'gitops' };
          d.run = { ...d.run, namespace: 'gitops' };
        },
        /the Flux objects' namespace \(gitops\.flux\.namespace\)/,
      ],
      [
        'verify.namespace',
        'shop',
        (d) => {
          d.maintenance = { workloads: [{ kind: 'Deployment', namespace: 'shop', name: 'web' }] };
          d.verify = { ...d.verify, namespace: 'shop' };
        },
        /a namespace of paused workloads/,
      ],
    ];
    for (const [path, namespace, edit, whose] of cases) {
      const data = exampleData();
      edit(data);
      const error = loadError(data);
      expect(error, namespace).toMatch(new RegExp(`^${path.replace('.', '\\.')}: "${namespace}" is `));
      expect(error, namespace).toMatch(whose);
      expect(error, namespace).toMatch(/deletes it with everything in it at graduation, so use one of its own, such as cilium-cutover/);
    }
  });

  it('refuse the same namespace for the Jobs and the verification workloads', () => {
    const data = exampleData();
    data.run = { ...data.run, namespace: 'migration' };
    data.verify = { ...data.verify, namespace: 'migration' };
    expect(loadError(data)).toBe(
      'verify.namespace: "migration" is also run.namespace; the verification workloads need a namespace of their own, such as cilium-cutover-verify',
    );
    data.verify.namespace = 'migration-verify';
    expect(loadError(data)).toBeUndefined();
  });
});

describe('the Argo CD destination', () => {
  it('is required whenever an Application is generated, and has no default', () => {
    for (const engine of ['argocd', 'both']) {
      const data = exampleData();
      data.gitops = { ...data.gitops, engine, argocd: {} };
      expect(loadError(data), engine).toBe(
        `gitops.argocd.destinationServer: required with engine ${engine}: set it to this cluster's API URL as the Argo CD that applies the steps has it registered (\`argocd cluster list\`), or set gitops.engine: flux`,
      );
    }
    const flux = exampleData();
    flux.gitops = { ...flux.gitops, engine: 'flux', argocd: {} };
    expect(loadError(flux)).toBeUndefined();
  });
});
