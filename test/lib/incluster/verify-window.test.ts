import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../../lib/incluster/shared/report.ts';
import { formatResult } from '../../../lib/incluster/shared/report.ts';
import { JudgedWindow, runWindow, type Round } from '../../../lib/incluster/verify-window.ts';

const pass = (subject: string): CheckResult => ({ outcome: 'PASS', check: 'pod-to-pod', subject, detail: 'echo answered' });
const fail = (subject: string): CheckResult => ({
  outcome: 'FAIL',
  check: 'pod-to-pod',
  subject,
  detail: 'no answer (timed out after 5s)',
});

describe('JudgedWindow', () => {
  it('settles only when every subject passed K rounds in a row', () => {
    const w = new JudgedWindow(3);
    w.record([pass('a'), fail('b')]);
    w.record([pass('a'), pass('b')]);
    w.record([pass('a'), pass('b')]);
    expect(w.settled()).toBe(false);
    expect(w.verdict().map(formatResult)).toEqual([
      'PASS pod-to-pod a: echo answered',
      'FAIL pod-to-pod b: passed only the last 2 of 3 round(s), 3 in a row needed; before that: no answer (timed out after 5s)',
    ]);
    w.record([pass('a'), pass('b')]);
    expect(w.settled()).toBe(true);
  });

  it('a flapping subject (half its requests lost) never settles', () => {
    const w = new JudgedWindow(2);
    for (let i = 0; i < 12; i++) {
      w.record([i % 2 === 0 ? pass('svc') : fail('svc')]);
    }
    expect(w.settled()).toBe(false);
    expect(w.verdict()[0]!.outcome).toBe('FAIL');
  });

  it('reports which subjects changed', () => {
    const w = new JudgedWindow(1);
    expect(w.record([fail('a')]).map((r) => r.outcome)).toEqual(['FAIL']);
    expect(w.record([fail('a')])).toEqual([]);
    expect(w.record([pass('a')]).map((r) => r.outcome)).toEqual(['PASS']);
  });
});

describe('runWindow', () => {
  /** A clock the sleeps advance, so the test takes no time. */
  const clock = () => {
    let t = 0;
    return { now: () => t, sleep: async (ms: number) => void (t += ms) };
  };
  const limits = { waitSeconds: 60, windowSeconds: 30, consecutive: 2, roundSeconds: 5 };

  it('waits for its preconditions, then passes once the rounds settle', async () => {
    const c = clock();
    const rounds: Round[] = [
      { waiting: [fail('echo n2')], results: [] },
      { waiting: [], results: [fail('a')] },
      { waiting: [], results: [pass('a')] },
      { waiting: [], results: [pass('a')] },
    ];
    let i = 0;
    const log: string[] = [];
    const result = await runWindow(
      async () => rounds[Math.min(i++, rounds.length - 1)]!,
      limits,
      (l) => log.push(l),
      c.now,
      c.sleep,
    );
    expect(result.map(formatResult)).toEqual(['PASS pod-to-pod a: echo answered']);
    expect(log).toEqual(['WAIT pod-to-pod echo n2: no answer (timed out after 5s)', 'RETRY pod-to-pod a: no answer (timed out after 5s)']);
  });

  it('fails what never became ready within the wait, naming it', async () => {
    const c = clock();
    const result = await runWindow(
      async () => ({ waiting: [fail('echo n2')], results: [] }),
      limits,
      () => {},
      c.now,
      c.sleep,
    );
    expect(result.map(formatResult)).toEqual(['FAIL pod-to-pod echo n2: no answer (timed out after 5s) (still after 60s)']);
  });

  it('fails at the end of the window a subject that did not settle', async () => {
    const c = clock();
    let i = 0;
    const result = await runWindow(
      async () => ({ waiting: [], results: [i++ % 2 ? pass('a') : fail('a')] }),
      limits,
      () => {},
      c.now,
      c.sleep,
    );
    expect(result[0]!.outcome).toBe('FAIL');
  });
});
