/**
 * Durations as the config, Flux and Argo CD write them (Go style): `90s`, `15m`, `1h30m`.
 */

/** Milliseconds of a duration, or `undefined` when the text is not one. */
export function parseDuration(text: string): number | undefined {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text.trim());
  if (!match || text.trim() === '') {
    return undefined;
  }
  const [, h = '0', m = '0', s = '0'] = match;
  return ((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1000;
}

/** Seconds of a duration the config schema has already accepted. */
export function durationSeconds(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) {
    throw new Error(`'${text}' is not a duration like 30s, 10m or 1h`);
  }
  return ms / 1000;
}
