/**
 * PLAN.md's step graph: the steps in order as a Mermaid flowchart, which GitHub renders in the
 * pull request, with the outage span boxed and the destructive and irreversible steps marked. A
 * section of plan.ts, kept apart for its length.
 */
import type { ResolvedConfig } from '../config/resolve.ts';
import type { StepDefinition } from '../step.ts';
import type { RenderedStep } from './rendered.ts';

/** The steps inside the span the pod network is down or disrupted, and what the span is. */
export function disruption(
  config: ResolvedConfig,
): { readonly title: string; readonly kinds: readonly StepDefinition['kind'][] } | undefined {
  if (config.phase === 'steady') {
    return undefined;
  }
  if (config.strategy === 'cutover') {
    return {
      title: 'Full outage: no pod network on any node, then none for pods started under Calico',
      kinds: ['calico-delete', 'node-cleanup', 'cilium', 'kube-proxy-cleanup', 'readdress-pods'],
    };
  }
  if (config.phase === 'migrate') {
    return undefined;
  }
  return {
    title: 'Full outage: no pod has a network until step 250 re-creates it',
    kinds: ['cilium', 'kube-proxy-cleanup', 'readdress-pods'],
  };
}

/** Mermaid's text in a quoted label: its own entity for the quote, nothing that starts markup. */
function label(text: string): string {
  return text.replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');
}

/** The node id of a step in the graph: its number. */
export function graphNodeId(step: StepDefinition): string {
  return `s${step.dir.split('-')[0]}`;
}

/** "Step graph": the steps in order as a Mermaid flowchart. */
export function stepGraph(config: ResolvedConfig, steps: readonly RenderedStep[]): string[] {
  const span = disruption(config);
  const node = ({ step }: RenderedStep) =>
    `${graphNodeId(step)}["${label(step.dir)}<br/>${label(step.title)}${step.impact ? `<br/>${step.impact}` : ''}"]${step.impact ? `:::${step.impact}` : ''}`;
  const inside = steps.filter((s) => span?.kinds.includes(s.step.kind));
  const lines = ['flowchart TD'];
  for (const s of steps) {
    if (s === inside[0]) {
      lines.push(`  subgraph outage["${label(span!.title)}"]`, ...inside.map((i) => `    ${node(i)}`), '  end');
    } else if (!inside.includes(s)) {
      lines.push(`  ${node(s)}`);
    }
  }
  for (let i = 1; i < steps.length; i++) {
    lines.push(`  ${graphNodeId(steps[i - 1]!.step)} --> ${graphNodeId(steps[i]!.step)}`);
  }
  lines.push('  classDef destructive fill:#fff3cd,stroke:#b7791f', '  classDef irreversible fill:#f8d7da,stroke:#c53030,stroke-width:2px');
  return [
    '## Step graph',
    '',
    '```mermaid',
    ...lines,
    '```',
    '',
    [
      'Red: **irreversible**, it deletes what no step brings back. Amber: **destructive**, it stops, evicts or deletes what a later step or a restart brings back.',
      span ? ` The box marks the steps of the ${span.title.charAt(0).toLowerCase()}${span.title.slice(1)}.` : '',
    ].join(''),
    '',
  ];
}
