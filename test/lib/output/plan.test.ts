import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deletionSet } from '../../../lib/versions/calico-deletion-sets.ts';
import { renderExample } from '../../support/helpers.ts';

describe('PLAN.md', () => {
  const rendered = renderExample();
  const plan = rendered.files.get('PLAN.md')!;

  it('has a section for every step in the output, in order', () => {
    const headings = plan.split('\n').filter((l) => /^### \d+\. `/.test(l));
    expect(headings.map((h) => h.match(/`([^`]+)`/)![1])).toEqual(rendered.steps.map((s) => s.step.dir));
  });

  it('names every object the Calico step deletes, says what is irreversible, where the inventory is and how to restore it', () => {
    for (const o of deletionSet('v3.27.0', { variant: 'calico', includeForeign: false })) {
      expect(plan, o.name).toContain(`${o.kind} \`${o.namespace ? `${o.namespace}/` : ''}${o.name}\``);
    }
    expect(plan).toContain('**Irreversible:** deleting the CRDs deletes every Calico custom resource with them');
    expect(plan).toContain('in ConfigMaps `calico-<id>-<n>-of-<count>` in namespace `cilium-cutover-inventory`');
    expect(plan).toContain('`npx cilium-cutover inventory --kubeconfig <file> --out calico-inventory.yaml`');
    // The back-out: Calico's manifest again, its CRDs established, then restore.
    const backOut = plan.split('\n').find((l) => l.includes('To back out, apply the same `calico.yaml` (v3.27.0) again'))!;
    expect(backOut).toContain('`kubectl wait --for condition=established crd/ippools.crd.projectcalico.org`');
    expect(backOut).toContain('`npx cilium-cutover restore --kubeconfig <file> --dry-run`');
  });

  it('says when the node scripts only print, and offers the rolling reboot', () => {
    expect(plan).not.toContain('dry-run mode');
    const dry = renderExample((d) => (d.cleanup = { dryRun: true })).files.get('PLAN.md')!;
    expect(dry).toContain('**in dry-run mode: it only prints what it would remove** (`cleanup.dryRun`)');
    expect(plan).toContain('`host/rolling-reboot.sh` drains, reboots and uncordons one node at a time');
  });

  it('mentions the network-policy API CRDs it leaves, for Calico lines that ship them', () => {
    expect(plan).not.toContain('policy.networking.k8s.io');
    const v330 = renderExample((d) => (d.calico.version = 'v3.30.0')).files.get('PLAN.md')!;
    expect(v330).toContain(
      "Not deleted: `adminnetworkpolicies.policy.networking.k8s.io`, `baselineadminnetworkpolicies.policy.networking.k8s.io` (the Kubernetes network-policy API's CRDs",
    );
  });

  it('gives the workstation commands: apply, and a kubectl fallback that waits for every Job and rollout', () => {
    expect(plan).toContain('npx cilium-cutover apply --dir dist --kubeconfig <kubeconfig pointing at a server node>');
    for (const { step } of rendered.steps) {
      expect(plan).toContain(`kubectl apply --server-side --field-manager=cilium-cutover -k dist/manifests/${step.dir}\n`);
    }
    // The verification Jobs run in their own namespace: the wait covers all namespaces.
    expect(plan).toContain('kubectl wait --for=condition=complete job -A -l cilium-cutover.io/step=310-verify-checks --timeout=18m');
    // The node check of the last step, in kube-system.
    expect(plan).toContain('kubectl wait --for=condition=complete job -A -l cilium-cutover.io/step=900-complete --timeout=5m');
    expect(plan).not.toContain('cilium-cutover.io/step=800-resume');
    expect(plan).toContain('kubectl rollout status daemonset/cilium -n kube-system --timeout=20m');
    expect(plan).toContain('kubectl rollout status daemonset/echo -n cilium-cutover-verify --timeout=10m');
    // Each wait follows its own step's apply.
    const ciliumApply = plan.indexOf('-k dist/manifests/200-cilium');
    const rollout = plan.indexOf('kubectl rollout status daemonset/cilium');
    expect(rollout).toBeGreaterThan(ciliumApply);
    expect(rollout).toBeLessThan(plan.indexOf('-k dist/manifests/210-kube-proxy-cleanup'));
  });
});

describe('PLAN.md abort guidance', () => {
  for (const [name, edit] of [
    ['the example', () => {}],
    ['phase steady', (d: Record<string, any>) => (d.phase = 'steady')],
    [
      'without verification or kube-proxy cleanup',
      (d: Record<string, any>) => ((d.verify.enabled = false), (d.cleanup = { kubeProxy: false })),
    ],
  ] as const) {
    it(`has a failure section for every step in the output (${name}), and no other`, () => {
      const rendered = renderExample(edit);
      const plan = rendered.files.get('PLAN.md')!;
      const sections = plan
        .split('\n')
        .filter((l) => /^### `[^`]+` failed$/.test(l))
        .map((l) => l.match(/`([^`]+)`/)![1]);
      expect(sections).toEqual(rendered.steps.map((s) => s.step.dir));
      for (const dir of sections) {
        const body = plan.slice(plan.indexOf(`### \`${dir}\` failed`)).split('\n### ')[0]!;
        expect(body, dir).toContain('- **After it succeeds:** ');
        expect(body, dir).toContain('- **How a failure shows:** ');
        expect(body, dir).toContain('- **What to do:** ');
      }
    });
  }

  it('says how to keep access and how to remove Cilium without losing the host', () => {
    const plan = renderExample().files.get('PLAN.md')!;
    expect(plan).toContain('### Keeping API and SSH access');
    expect(plan).toContain('**before any `k3s-killall.sh` or `k3s-uninstall.sh`**');
    expect(plan).toContain('`ip link delete cilium_host; ip link delete cilium_net; ip link delete cilium_vxlan`');
  });
});

describe('PLAN.md before step 000: the network and access', () => {
  const network = (edit: (d: any) => void = () => {}) => {
    const plan = renderExample(edit).files.get('PLAN.md')!;
    return plan.slice(plan.indexOf('## Before step 000: the network'), plan.indexOf('## Before step 000: access'));
  };
  const generic = (d: any) => {
    d.cluster.profile = 'generic';
    delete d.cluster.network;
    delete d.cilium.MTU;
  };

  it("hetzner-cloud: asks for the network's routes, which the API does not show, and names the MTU check", () => {
    const text = network();
    expect(text).toContain(
      'Native routing through the Hetzner Cloud network `10.0.0.0/8`: the hcloud cloud controller adds one route per node',
    );
    expect(text).toContain(
      'check that `hcloud network describe <network>` lists a route for each pod CIDR of `kubectl get nodes -o custom-columns=',
    );
    expect(text).toContain(
      'MTU: Cilium is given 1450; the preflight checks that the private interface of every node carries at least that.',
    );
  });

  it('hetzner-vswitch: one layer-2 segment; with cloud servers, the tunnel, since nothing routes their pods', () => {
    const vswitch = (d: any) => {
      d.cluster.profile = 'hetzner-vswitch';
      d.cluster.network = { ipRange: '10.0.0.0/8', vSwitchSubnet: '10.0.0.0/24' };
      delete d.cilium.MTU;
    };
    const text = network(vswitch);
    expect(text).toContain('Native routing with direct node routes on the vSwitch `10.0.0.0/24`');
    expect(text).toContain("every node's InternalIP lies in the vSwitch subnet and, on each node, that every other node is on-link");
    const mixed = network((d) => (vswitch(d), (d.cluster.network.cloudServers = true), (d.cilium.routingMode = 'tunnel')));
    expect(mixed).toContain('Tunnel mode: pod traffic between nodes is VXLAN on UDP 8472');
    expect(mixed).toContain("The cloud servers and the Robot servers reach each other's pods only through the tunnel");
    expect(mixed).toContain('MTU: Cilium is given 1400');
  });

  it('per-node: the migration tunnel port must pass too', () => {
    const perNode = network((d) => ((d.strategy = 'per-node'), (d.perNode = { acknowledgeCalicoBGP: true, tunnelPort: 8473 })));
    expect(perNode).toContain(
      'it tunnels on its own VXLAN port, UDP 8473 (`perNode.tunnelPort`), which must pass between every pair of nodes too.',
    );
    expect(network()).not.toContain('perNode.tunnelPort');
  });

  it('generic: direct routes, a router that routes the pod CIDRs, or the tunnel and its port', () => {
    expect(network((d) => (generic(d), (d.cilium.autoDirectNodeRoutes = true)))).toContain(
      "Native routing with direct node routes: Cilium routes each node's pod CIDR via that node's address, which works only when every node is on one layer-2 segment.",
    );
    expect(network((d) => (generic(d), (d.cluster.network = { routesPodCIDRs: true })))).toContain(
      "Native routing through your network (`cluster.network.routesPodCIDRs`): a router must hold a route for each node's pod CIDR via that node's address",
    );
    const tunnel = network((d) => (generic(d), (d.cilium.routingMode = 'tunnel'), (d.cilium.MTU = 1400)));
    // Cilium takes the tunnel's overhead off the MTU it is given (pkg/mtu: TunnelOverheadIPv4 50).
    expect(tunnel).toContain(
      'must pass UDP 8472 in both directions. Cilium takes the 50 bytes of VXLAN overhead off the MTU for the pods (1400 − 50 = 1350).',
    );
    expect(tunnel).toContain('A network on which Flannel VXLAN failed fails Cilium VXLAN the same way');
    expect(network((d) => (generic(d), (d.cilium.routingMode = 'tunnel')))).toContain('MTU: Cilium takes it from the device.');
  });

  it('asks for console access, says what 127.0.0.1:6444 is on a server, and what nodes added later need', () => {
    const plan = renderExample().files.get('PLAN.md')!;
    const access = plan.slice(plan.indexOf('## Before step 000: access'), plan.indexOf('## Risks for this config'));
    expect(access).toContain('- **Console or rescue access to every node.** Cilium attaches its BPF programs to every native device');
    expect(access).toContain("- **`127.0.0.1:6444` on a server is that server's own API server.**");
    expect(access).toContain('and one without `disable-kube-proxy` runs kube-proxy beside Cilium');
    const external = renderExample((d) => (d.cluster.apiServer = { host: 'api.example.com', port: 6443 })).files.get('PLAN.md')!;
    expect(external).not.toContain('127.0.0.1:6444` on a server');
  });
});

describe('cilium-cutover plan', () => {
  it('prints the same text as PLAN.md, with every check and what it proves', async () => {
    const { runCli } = await import('../../../cli/index.ts');
    const { VERIFY_CHECKS } = await import('../../../lib/output/verify-table.ts');
    const stdout: string[] = [];
    const code = await runCli(['plan'], { stdout: (l) => stdout.push(l), stderr: () => {}, cwd: '/nonexistent' });
    expect(code).toBe(0);
    // The committed dist/ is the built-in example's output, as `plan` renders it.
    const plan = readFileSync(new URL('../../../dist/PLAN.md', import.meta.url), 'utf8');
    expect(plan).toContain('- this output is the built-in example (examples/hetzner-3-servers.yaml), not your cluster');
    expect(`${stdout.join('\n')}\n`).toBe(plan);
    for (const row of VERIFY_CHECKS) {
      expect(plan).toContain(`| \`${row.check}\` |`);
      expect(plan).toContain(`| ${row.proves} | ${row.doesNot} |`);
    }
  });
});

describe('PLAN.md risks', () => {
  const section = (plan: string) => plan.slice(plan.indexOf('## Risks for this config'), plan.indexOf('## Steps'));

  it('names the outage, the pods to recreate, the MTU and the unpaused applications for the example', () => {
    const risks = section(renderExample().files.get('PLAN.md')!);
    // With kube-proxy replacement the outage begins when kube-proxy stops, at the k3s rollout.
    expect(risks).toContain(
      '**Full outage.** It begins with the k3s rollout (before step 000): kube-proxy stops, and Services run on the rules it left, which follow no endpoint change. From step 100 until every Cilium agent is ready in step 200',
    );
    expect(section(renderExample((d) => (d.cilium.kubeProxyReplacement = false)).files.get('PLAN.md')!)).toContain(
      '**Full outage.** From step 100 until every Cilium agent is ready in step 200',
    );
    expect(risks).toContain('all 3 nodes at once');
    expect(risks).toContain('(from the Calico pool `192.168.0.0/16`)');
    expect(risks).toContain('**MTU 1450 applies to new pods only.**');
    expect(risks).toContain('**Applications keep running through the outage**');
    expect(risks).toContain(`(see cilium-cutover's docs/applying.md "Maintenance window: pausing applications")`);
  });

  it('follows the config: no MTU risk when Cilium detects it, no pause hint with a maintenance window, skipped nodes named', () => {
    const risks = section(
      renderExample((d) => {
        d.cluster.profile = 'generic';
        delete d.cluster.network;
        delete d.cilium.MTU;
        d.cilium.autoDirectNodeRoutes = true;
        d.maintenance = { workloads: [{ kind: 'Deployment', namespace: 'shop', name: 'web' }] };
        d.run.skipNodes = ['k3s-server-3'];
      }).files.get('PLAN.md')!,
    );
    expect(risks).toContain('**Full outage.**');
    expect(risks).not.toContain('MTU');
    expect(risks).not.toContain('Applications keep running');
    expect(risks).toContain('**Skipped nodes** `k3s-server-3` get no cleanup Jobs');
  });

  it('has no risks section once the migration is over (phase steady)', () => {
    expect(renderExample((d) => (d.phase = 'steady')).files.get('PLAN.md')).not.toContain('## Risks for this config');
  });
});

describe('PLAN.md hand-over after apply', () => {
  const section = (plan: string) => {
    const start = plan.search(/^## Handing over to .+ after `apply`$/m);
    return start === -1 ? undefined : plan.slice(start, plan.indexOf('\n## ', start + 1));
  };

  it('states the four rules: wait for the checks, the same commit, a sync by hand, prune only at graduation', () => {
    const text = section(renderExample().files.get('PLAN.md')!)!;
    const rules = text.split('\n').filter((l) => /^\d\. \*\*/.test(l));
    expect(rules.map((l) => l.slice(0, 2))).toEqual(['1.', '2.', '3.', '4.']);
    expect(rules[0]).toContain('`310-verify-checks` has passed and `900-complete` is applied');
    expect(rules[1]).toContain('Sync the commit `apply` used, and no other');
    expect(rules[2]).toContain('Sync the Argo CD Application by hand');
    expect(rules[3]).toContain('Prune only at graduation');
    // The example generates Flux objects too: Flux applies server-side, so the release is named.
    expect(text).toContain('`apply --release`');
  });

  it('follows the config: automated sync, Flux alone, Argo CD alone; none once the migration is over', () => {
    const automated = section(renderExample((d) => (d.gitops.argocd = { ...d.gitops.argocd, automated: true })).files.get('PLAN.md')!)!;
    expect(automated).toContain('3. **Argo CD syncs on its own**');
    const flux = section(renderExample((d) => (d.gitops.engine = 'flux')).files.get('PLAN.md')!)!;
    expect(flux).toContain('3. **Flux reconciles on its own**');
    const argo = section(renderExample((d) => (d.gitops.engine = 'argocd')).files.get('PLAN.md')!)!;
    expect(argo).toContain('`apply --release` is not needed');
    expect(section(renderExample((d) => (d.phase = 'steady')).files.get('PLAN.md')!)).toBeUndefined();
  });

  it('names the graduation from a workstation, and for a Flux applied by hand, which Kustomizations go', () => {
    const plan = renderExample().files.get('PLAN.md')!;
    expect(plan).toContain('`npx cilium-cutover apply --graduate --dir <steady output> --kubeconfig <kubeconfig>`');
    expect(plan).toContain('delete the\nKustomizations it no longer has');
    expect(renderExample((d) => (d.gitops.engine = 'argocd')).files.get('PLAN.md')).not.toContain('Kustomizations it no longer has');
  });
});

describe('PLAN.md on what the engines may delete', () => {
  it('says, in every phase, that Cilium and the record are never deleted and the rest of the migration may be', () => {
    for (const phase of ['migrate', 'steady']) {
      const plan = renderExample((d) => (d.phase = phase)).files.get('PLAN.md')!;
      const start = plan.indexOf('## What Argo CD or Flux may delete');
      expect(start, phase).toBeGreaterThan(-1);
      const text = plan.slice(start, plan.indexOf('\n## ', start + 1));
      expect(text).toContain('**Cilium, the status record and the node check: never.**');
      expect(text).toContain('`argocd.argoproj.io/sync-options: Prune=false,Delete=false`');
      expect(text).toContain('`cilium-cutover diff` lists each with the command that deletes it');
      expect(text).toContain('**Everything else of the migration**');
    }
  });
});

describe('PLAN.md on an engine inside the cluster', () => {
  const risks = (edit: (d: Record<string, any>) => void) => {
    const plan = renderExample(edit).files.get('PLAN.md')!;
    return plan.slice(plan.indexOf('## Risks for this config'), plan.indexOf('## Steps'));
  };

  it("flags an Argo CD destination that is this cluster's in-cluster address, and no other", () => {
    for (const server of ['https://kubernetes.default.svc', 'https://kubernetes.default.svc.cluster.local:443']) {
      expect(
        risks((d) => (d.gitops.argocd.destinationServer = server)),
        server,
      ).toContain(`**Argo CD inside this cluster** (\`gitops.argocd.destinationServer\` is ${server})`);
    }
    expect(risks(() => {})).not.toContain('Argo CD inside this cluster');
  });

  it("gives a Flux the settings it needs to survive the outage, with this cluster's API address", () => {
    const text = risks((d) => (d.cluster.apiServer = { host: '10.0.0.2', port: 6443 }));
    expect(text).toContain('`KUBERNETES_SERVICE_HOST=10.0.0.2` and `KUBERNETES_SERVICE_PORT=6443`');
    expect(text).toContain("source-controller's `--storage-adv-addr`");
    expect(risks((d) => (d.gitops.engine = 'argocd'))).not.toContain('Flux inside this cluster');
  });
});
