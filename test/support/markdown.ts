/**
 * What the documentation tests read from Markdown: relative links, headings and their anchors (as
 * GitHub makes them), and `see <file> "<heading>"` pointers in any text.
 */
import GithubSlugger from 'github-slugger';

/** The text without fenced code blocks and inline code, where links and headings are not. */
function prose(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** Every heading's text, in order, with inline code kept as text. */
export function headings(text: string): string[] {
  const noFences = text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  return [...noFences.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)].map((m) => m[1]!.replace(/`/g, ''));
}

/** The anchors GitHub gives the headings (a repeated heading gets `-1`, `-2`, …). */
export function anchors(text: string): Set<string> {
  const slugger = new GithubSlugger();
  return new Set(headings(text).map((h) => slugger.slug(h)));
}

/** The targets of the relative links: `[text](target)` and `[text]: target`, without web links. */
export function relativeLinks(text: string): string[] {
  const body = prose(text);
  const inline = [...body.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
  const reference = [...body.matchAll(/^\s*\[[^\]]+\]:\s+(\S+)/gm)].map((m) => m[1]!);
  return [...inline, ...reference].filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

/** A pointer to a heading of a documentation file: `see docs/steps.md "Removing Calico"`. */
export interface Pointer {
  readonly file: string;
  readonly heading: string;
}

/**
 * Every `see [cilium-cutover's] <file>.md "<heading>"` pointer in a text (code or prose); `README`
 * means README.md, and the older form (README and the heading in parentheses) counts too.
 */
export function pointers(text: string): Pointer[] {
  const older = [...text.matchAll(/\(README, \\?"([^"\\]+)\\?"\)/g)].map((m) => ({ file: 'README.md', heading: m[1]! }));
  const see = [
    ...text.matchAll(/\bsee (?:cilium-cutover's |the )?((?:[\w.-]+\/)*[\w.-]+\.md|README)(?: section)?,? \\?"([^"\\]+)\\?"/g),
  ].map((m) => ({ file: m[1] === 'README' ? 'README.md' : m[1]!, heading: m[2]! }));
  return [...older, ...see];
}
