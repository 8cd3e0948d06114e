/**
 * The judged window of a verification check. A check first waits (bounded) until what it tests
 * exists, then runs rounds: each subject (a node pair, a Service, a URL) must pass `consecutive`
 * rounds in a row before the window ends. One failed request resets that subject's count, so a
 * Service with an unreachable backend cannot pass by luck, and a network that settles late still
 * passes once it has settled. Dependency-free.
 */
import type { CheckResult } from './shared/report.ts';

/** What one round of a check found. */
export interface Round {
  /** Preconditions not met yet (no echo pod on a node, the agent not answering): keep waiting. */
  readonly waiting: readonly CheckResult[];
  /** The round's judgements, one per subject. */
  readonly results: readonly CheckResult[];
}

const key = (r: CheckResult): string => `${r.check} ${r.subject}`;

/** Streaks of passing rounds per subject; the verdict is over the subjects of the latest round. */
export class JudgedWindow {
  private readonly streaks = new Map<string, number>();
  private latest: CheckResult[] = [];
  private readonly lastFailure = new Map<string, CheckResult>();
  private rounds = 0;

  public constructor(private readonly consecutive: number) {}

  /** Records a round; returns the subjects whose outcome changed since the previous round. */
  public record(results: readonly CheckResult[]): CheckResult[] {
    const before = new Map(this.latest.map((r) => [key(r), r.outcome]));
    const seen = new Set<string>();
    for (const r of results) {
      const k = key(r);
      seen.add(k);
      if (r.outcome === 'FAIL') {
        this.streaks.set(k, 0);
        this.lastFailure.set(k, r);
      } else {
        this.streaks.set(k, (this.streaks.get(k) ?? 0) + 1);
      }
    }
    // A subject missing from a round (its target went away) starts again when it returns.
    for (const k of [...this.streaks.keys()]) {
      if (!seen.has(k)) {
        this.streaks.delete(k);
      }
    }
    this.latest = [...results];
    this.rounds++;
    return results.filter((r) => before.get(key(r)) !== r.outcome);
  }

  /** Every subject of the latest round has passed `consecutive` rounds in a row. */
  public settled(): boolean {
    return this.latest.length > 0 && this.latest.every((r) => (this.streaks.get(key(r)) ?? 0) >= this.consecutive);
  }

  /** The window's result: a subject short of its streak is a FAIL that says why. */
  public verdict(): CheckResult[] {
    return this.latest.map((r): CheckResult => {
      const streak = this.streaks.get(key(r)) ?? 0;
      if (streak >= this.consecutive) {
        return r;
      }
      if (r.outcome === 'FAIL') {
        return r;
      }
      const failure = this.lastFailure.get(key(r));
      return {
        outcome: 'FAIL',
        check: r.check,
        subject: r.subject,
        detail: `passed only the last ${streak} of ${this.rounds} round(s), ${this.consecutive} in a row needed${failure ? `; before that: ${failure.detail}` : ''}`,
      };
    });
  }
}

/** Runs a check: waits for its preconditions, then judges rounds until they settle or the window ends. */
export async function runWindow(
  round: () => Promise<Round>,
  limits: { readonly waitSeconds: number; readonly windowSeconds: number; readonly consecutive: number; readonly roundSeconds: number },
  log: (line: string) => void,
  now: () => number = Date.now,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  /** When the wait began (the runner's start: reading its node list is part of it). */
  waitFrom: number = now(),
): Promise<CheckResult[]> {
  const waitUntil = waitFrom + limits.waitSeconds * 1000;
  let current = await round();
  let lastLog = Number.NEGATIVE_INFINITY;
  while (current.waiting.length > 0) {
    if (now() >= waitUntil) {
      return current.waiting.map((r) => ({ ...r, outcome: 'FAIL', detail: `${r.detail} (still after ${limits.waitSeconds}s)` }));
    }
    if (now() - lastLog >= 30_000) {
      current.waiting.forEach((r) => log(`WAIT ${r.check} ${r.subject}: ${r.detail}`));
      lastLog = now();
    }
    await sleep(limits.roundSeconds * 1000);
    current = await round();
  }
  const windowUntil = now() + limits.windowSeconds * 1000;
  const window = new JudgedWindow(limits.consecutive);
  for (;;) {
    const results = [...current.waiting.map((r): CheckResult => ({ ...r, outcome: 'FAIL' })), ...current.results];
    for (const changed of window.record(results)) {
      if (changed.outcome === 'FAIL') {
        log(`RETRY ${changed.check} ${changed.subject}: ${changed.detail}`);
      }
    }
    if (window.settled() || now() >= windowUntil) {
      return window.verdict();
    }
    await sleep(limits.roundSeconds * 1000);
    current = await round();
  }
}
