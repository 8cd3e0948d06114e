/**
 * The one-line results every in-cluster check prints: `PASS|FAIL|SKIP|INFO|WARN <check> <subject>: <detail>`.
 */

/** WARN: works, but deserves a look; never fails the Job. */
export type Outcome = 'PASS' | 'FAIL' | 'SKIP' | 'INFO' | 'WARN';

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

/** Prints every result; returns the exit code (1 when any failed). */
export function printResults(results: readonly CheckResult[]): number {
  for (const r of results) {
    console.log(formatResult(r));
  }
  return anyFailed(results) ? 1 : 0;
}

/** Prints every result, then the summary line for `what`; returns the exit code (1 when any failed). */
export function report(results: readonly CheckResult[], what: string): number {
  printResults(results);
  const failed = results.filter((r) => r.outcome === 'FAIL').length;
  console.log(failed > 0 ? `${what}: ${failed} check(s) failed; nothing was changed` : `${what}: all checks passed`);
  return failed > 0 ? 1 : 0;
}

/**
 * Runs an entry point's main and exits with its code. An exception ends it with exit code 1 and
 * the lines `failure` makes of its message (by default `FAILED <message>`).
 */
export function runMain(main: () => Promise<number>, failure: (message: string) => readonly string[] = (m) => [`FAILED ${m}`]): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      failure((err as Error).message).forEach((line) => console.log(line));
      process.exit(1);
    },
  );
}
