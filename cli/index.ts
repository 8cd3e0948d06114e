/** The command line's public face: main.ts and the tests use these. */
export { runCli } from './run.ts';
export { DEFAULT_CONFIG_FILE, EXAMPLE_CONFIG, type CliIo } from './io.ts';
