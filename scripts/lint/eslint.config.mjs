// The project's lint rules (docs/development.md "Linting"). typescript-eslint parses without type
// information, so the linter needs only TypeScript 5's parser, which this package brings along.
import vitest from '@vitest/eslint-plugin';
import tseslint from 'typescript-eslint';

export default [
  {
    ignores: ['node_modules/**', 'dist/**', 'coverage/**', 'test/fixtures/**', 'scripts/lint/node_modules/**'],
  },
  {
    files: ['**/*.ts', '**/*.mts', '**/*.mjs'],
    languageOptions: { parser: tseslint.parser, ecmaVersion: 2023, sourceType: 'module' },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // The order cdk8s-plus uses: static fields, static methods, fields, constructor, methods.
      '@typescript-eslint/member-ordering': [
        'error',
        { default: ['static-field', 'static-method', 'field', 'constructor', ['get', 'set'], 'method'] },
      ],
      // An expression statement that does nothing is a mistake (`expect(x).toBeDefined;`).
      '@typescript-eslint/no-unused-expressions': 'error',
      // Defaults with ?? so that 0 and '' stay (see docs/development.md).
      'no-restricted-syntax': [
        'error',
        {
          selector: "AssignmentPattern > LogicalExpression[operator='||']",
          message: "use ?? for a default, not ||, so that 0 and '' are kept",
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    plugins: { vitest },
    rules: {
      // expect() must end in a matcher call, and an awaited one where the matcher is async.
      'vitest/valid-expect': ['error', { maxArgs: 2 }],
    },
  },
];
