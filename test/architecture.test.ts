/**
 * The layers of src/, as the folder names say: each layer imports only from layers below it (or from
 * itself), and no module imports itself through others. Type imports count: a cycle of types is still
 * a cycle a reader has to untangle.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');

/** Lowest first. A module's layer is its first folder under src/ (or its file name at the top). */
const LAYERS: readonly (readonly string[])[] = [
  ['types.ts', 'errors.ts', 'html.ts', 'request-target.ts'],
  ['schema'],
  ['http', 'fs'],
  ['classify'],
  ['stats'],
  ['tls'],
  ['fallback'],
  ['report'],
  ['koa', 'express'],
  ['analyse', 'relay', 'router-config'],
  ['proxy'],
  ['cli'],
  ['index.ts'],
];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return files(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

function layerOf(file: string): number {
  const top = path.relative(SRC, file).split(path.sep)[0] as string;
  const layer = LAYERS.findIndex((names) => names.includes(top));
  if (layer < 0) throw new Error(`${top} is in no layer: add it to LAYERS (and say why there)`);
  return layer;
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'/g), ...text.matchAll(/\bimport\('([^']+)'\)/g)].map((m) => m[1] as string);
  return specifiers.filter((s) => s.startsWith('.')).map((s) => path.resolve(path.dirname(file), s.replace(/\.js$/, '.ts')));
}

const graph = new Map(files(SRC).map((file) => [file, importsOf(file)]));
const name = (file: string) => path.relative(SRC, file);

describe('the import graph of src/', () => {
  it('resolves every relative import to a file', () => {
    const missing = [...graph].flatMap(([file, imports]) => imports.filter((target) => !graph.has(target)).map((target) => `${name(file)} → ${target}`));
    expect(missing).toEqual([]);
  });

  it('has no arrow from a lower layer up to a higher one', () => {
    const upward = [...graph].flatMap(([file, imports]) => imports.filter((target) => graph.has(target) && layerOf(target) > layerOf(file)).map((target) => `${name(file)} → ${name(target)}`));
    expect(upward).toEqual([]);
  });

  it('has no cycle, type imports included', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, trail: string[]) => {
      state.set(file, 'open');
      for (const target of graph.get(file) ?? []) {
        if (state.get(target) === 'open') cycles.push([...trail.slice(trail.indexOf(target)), target].map(name).join(' → '));
        else if (!state.has(target) && graph.has(target)) visit(target, [...trail, target]);
      }
      state.set(file, 'done');
    };
    for (const file of graph.keys()) if (!state.has(file)) visit(file, [file]);
    expect(cycles).toEqual([]);
  });

  it('has no src/options.ts: each feature owns its options beside its code', () => {
    expect(graph.has(path.join(SRC, 'options.ts'))).toBe(false);
    for (const feature of ['tls', 'fallback', 'stats', 'report']) expect(graph.has(path.join(SRC, feature, 'options.ts')), feature).toBe(true);
  });
});
