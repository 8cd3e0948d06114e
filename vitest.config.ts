import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
    // Tests must not depend on cdk8s's environment switches.
    env: { CDK8S_DISABLE_SORT: '', CDK8S_OUTDIR: '' },
  },
});
