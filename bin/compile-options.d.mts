import type { BuildOptions } from 'esbuild';

export declare const COMPILE_OPTIONS: BuildOptions;
