/**
 * The documentation is checked like code: generated tables match the definitions, every link leads
 * somewhere, every `npm run` script it names exists, and every ```ts example compiles against the
 * package's public entry points (blocks marked ```ts fragment are parts of a larger program and skipped).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { blocksIn, docFiles, GENERATED, render, ROOT } from '../scripts/docs.js';

const pages = docFiles().map((file) => ({ file, text: readFileSync(join(ROOT, file), 'utf8') }));

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = !fenced && /^#{1,6} (.+)$/.exec(line);
    if (!heading) continue;
    const base = heading[1]!.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** Markdown links outside code: [text](target). */
function linksOf(text: string): string[] {
  const prose = text.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]!);
}

describe('the documentation', () => {
  it('has every generated block up to date with the option definitions (npm run docs)', () => {
    for (const { file, text } of pages) expect(render(text, file), `${file} is stale: run npm run docs`).toBe(text);
  });

  it('uses every generated block somewhere, so no definition goes undocumented', () => {
    const used = new Set(pages.flatMap(({ text }) => blocksIn(text)));
    expect(Object.keys(GENERATED).filter((name) => !used.has(name))).toEqual([]);
  });

  it('links only to files and headings that exist', () => {
    const broken: string[] = [];
    for (const { file, text } of pages) {
      for (const link of linksOf(text)) {
        if (/^(https?:|mailto:)/.test(link)) continue;
        const [path, anchor] = link.split('#') as [string, string | undefined];
        const target = path === '' ? join(ROOT, file) : join(ROOT, dirname(file), path);
        if (!existsSync(target)) broken.push(`${file}: ${link} (no such file)`);
        else if (anchor !== undefined && target.endsWith('.md') && !anchorsOf(readFileSync(target, 'utf8')).has(anchor)) {
          broken.push(`${file}: ${link} (no such heading in ${relative(ROOT, target)})`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('names only npm scripts that exist', () => {
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const named = new Set(pages.flatMap(({ text }) => [...text.matchAll(/npm run ([a-z][\w:-]*)/g)].map((match) => match[1]!)));
    expect([...named].filter((name) => !(name in scripts))).toEqual([]);
  });

  it('keeps README a front page: near 10 KB, the reference lives in docs/', () => {
    expect(readFileSync(join(ROOT, 'README.md')).length).toBeLessThan(12_000);
  });

  it('has ts examples that compile against the public entry points', async () => {
    const dir = join(ROOT, 'node_modules', '.cache', 'ltf-docs-examples');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const files: string[] = [];
    for (const { file, text } of pages) {
      let n = 0;
      for (const match of text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)) {
        const name = `${file.replace(/[^\w]/g, '_')}_${++n}.ts`;
        writeFileSync(join(dir, name), `// ${file}, example ${n}\n${match[1]!}\nexport {};\n`);
        files.push(name);
      }
    }
    expect(files.length).toBeGreaterThan(3);
    const src = relative(dir, join(ROOT, 'src'));
    const config = {
      extends: relative(dir, join(ROOT, 'tsconfig.json')),
      compilerOptions: {
        noEmit: true,
        rootDir: relative(dir, ROOT),
        paths: {
          'legacy-tls-fallback': [`${src}/index.ts`],
          'legacy-tls-fallback/*': [`${src}/*/index.ts`],
        },
      },
      include: files,
    };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(config));
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await promisify(execFile)(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: dir }).then(
      () => '',
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    expect(result).toBe('');
  }, 120_000);
});
