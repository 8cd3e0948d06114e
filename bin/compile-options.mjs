// How bin/cilium-cutover.mjs compiles the TypeScript sources with esbuild; the bench compiles its
// floor the same way.
export const COMPILE_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Packages stay in node_modules and load from there (the compiled files sit below it).
  packages: 'external',
  logLevel: 'error',
};
