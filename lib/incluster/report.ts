/**
 * The one-line results every in-cluster check prints: `PASS|FAIL|SKIP|INFO <check> <subject>: <detail>`.
 */

export type Outcome = 'PASS' | 'FAIL' | 'SKIP' | 'INFO';

/** One result line. */
export interface CheckResult {
  readonly outcome: Outcome;
  readonly check: string;
  readonly subject: string;
  readonly detail: string;
}

/** Formats a result as the line the Job logs. */
export function formatResult(r: CheckResult): string {
  return `${r.outcome} ${r.check} ${r.subject}: ${r.detail}`;
}

/** True when any result failed: the Job then exits non-zero. */
export function anyFailed(results: readonly CheckResult[]): boolean {
  return results.some((r) => r.outcome === 'FAIL');
}
