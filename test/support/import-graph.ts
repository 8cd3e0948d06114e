/**
 * The project's import graph, read from the sources: for each file, the project files and the
 * packages it imports (static, type-only, re-exports and `import()` with a literal).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

export interface SourceFile {
  /** Path from the repository root, `/`-separated. */
  readonly path: string;
  /** Project files imported, as paths from the root. */
  readonly files: readonly string[];
  /** Packages and `node:` modules imported. */
  readonly packages: readonly string[];
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^'"`;]*?from\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g;

/** The specifiers a source text imports. */
export function importsOf(text: string): string[] {
  return [...text.matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

/**
 * The files of `root` whose names match `pattern`: the single files listed in `places` and
 * everything below the folders listed there (node_modules left out), by path from the root.
 */
export function filesUnder(root: string, places: readonly string[], pattern: RegExp): string[] {
  const files: string[] = [];
  const walk = (path: string) => {
    for (const entry of readdirSync(join(root, path), { withFileTypes: true })) {
      const child = `${path}/${entry.name}`;
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') {
          walk(child);
        }
      } else if (pattern.test(entry.name)) {
        files.push(child);
      }
    }
  };
  for (const place of places) {
    if (pattern.test(place)) {
      files.push(place);
    } else {
      walk(place);
    }
  }
  return files.sort();
}

/** Reads every `.ts` file under the given folders (and single files) of `root`. */
export function readGraph(root: string, places: readonly string[]): SourceFile[] {
  const files = filesUnder(root, places, /\.ts$/);
  return files.map((path) => {
    const specifiers = importsOf(readFileSync(join(root, path), 'utf8'));
    const local = specifiers.filter((s) => s.startsWith('.'));
    return {
      path,
      files: local.map((s) => relative('.', normalize(join(dirname(path), s))).replaceAll('\\', '/')),
      packages: specifiers.filter((s) => !s.startsWith('.')),
    };
  });
}

/** Every cycle of imports, each as the list of files around it (empty when there is none). */
export function cycles(graph: readonly SourceFile[]): string[][] {
  const edges = new Map(graph.map((f) => [f.path, f.files]));
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of edges.get(file) ?? []) {
      if (state.get(next) === 'open') {
        found.push([...stack.slice(stack.indexOf(next)), next]);
      } else if (!state.has(next)) {
        visit(next);
      }
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of edges.keys()) {
    if (!state.has(file)) {
      visit(file);
    }
  }
  return found;
}
