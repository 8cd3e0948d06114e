/**
 * The linter `npm test` runs (scripts/lint): each rule fires on a text that breaks it, so a linter
 * that silently checks nothing cannot pass.
 */
import { describe, expect, it } from 'vitest';

import { lintText } from '../scripts/lint/lint.mjs';

describe('the linter', () => {
  it('wants static fields, fields, the constructor, then methods', async () => {
    const text = ['export class A {', '  public run(): void {}', '  public readonly x = 1;', '  public constructor() {}', '}', ''].join(
      '\n',
    );
    expect(await lintText(text, 'lib/probe.ts')).toContain('@typescript-eslint/member-ordering');
    const ordered = ['export class A {', '  public readonly x = 1;', '  public constructor() {}', '  public run(): void {}', '}', ''].join(
      '\n',
    );
    expect(await lintText(ordered, 'lib/probe.ts')).toEqual([]);
  });

  it('refuses an expect without a matcher call', async () => {
    const text = ["import { expect, it } from 'vitest';", "it('x', () => {", '  expect(1).toBeDefined;', '});', ''].join('\n');
    expect(await lintText(text, 'test/probe.test.ts')).toEqual(
      expect.arrayContaining(['vitest/valid-expect', '@typescript-eslint/no-unused-expressions']),
    );
  });

  it('refuses || for a default value', async () => {
    const text = 'export function f({ port = Number(process.env.PORT) || 80 }: { port?: number }): number {\n  return port;\n}\n';
    expect(await lintText(text, 'lib/probe.ts')).toEqual(['no-restricted-syntax']);
  });

  it('parses TypeScript the project type-checks with TypeScript 7', async () => {
    const text =
      'export type Pick2<T, K extends keyof T> = { readonly [P in K]: T[P] };\nexport const x = <const>[1, 2] satisfies readonly number[];\n';
    expect(await lintText(text, 'lib/probe.ts')).toEqual([]);
  });
});
