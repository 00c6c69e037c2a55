/**
 * Writes the generated parts of the docs: option tables from each feature's option descriptions, the
 * command's flags, the fallback page's text keys. Each sits between markers,
 *
 *   <!-- generated: options fallback -->  …  <!-- /generated -->
 *
 * and everything outside the markers is written by hand. `npm run docs` rewrites the files;
 * test/docs.test.ts fails when a page and the definitions disagree.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { flagTables } from '../src/cli/options.js';
import { FALLBACK_OPTIONS } from '../src/fallback/options.js';
import { en } from '../src/fallback/texts/en.js';
import { BUILT_IN_LANGUAGES } from '../src/fallback/texts/index.js';
import { PROXY_OPTIONS } from '../src/proxy/config.js';
import { REPORT_OPTIONS } from '../src/report/options.js';
import { markdownTable } from '../src/schema/define.js';
import { STATS_OPTIONS } from '../src/stats/options.js';
import { REDIS_STORE_OPTIONS } from '../src/stats/stores/redis-options.js';
import { TLS_OPTIONS } from '../src/tls/options.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Every generated block, by the name its marker uses. Add a feature's table here. */
export const GENERATED: Readonly<Record<string, () => string>> = {
  'options tls': () => markdownTable(TLS_OPTIONS.rows()),
  'options fallback': () => markdownTable(FALLBACK_OPTIONS.rows()),
  'options stats': () => markdownTable(STATS_OPTIONS.rows()),
  'options report': () => markdownTable(REPORT_OPTIONS.rows()),
  'options redis': () => markdownTable(REDIS_STORE_OPTIONS.rows()),
  'options proxy': () => markdownTable(PROXY_OPTIONS.rows()),
  'cli flags': flagTables,
  'page texts': () =>
    [
      `Built-in languages: ${BUILT_IN_LANGUAGES.map((pack) => `\`${pack.tag}\``).join(', ')}.`,
      '',
      '| Key | English text |',
      '| --- | --- |',
      ...Object.entries(en.texts).map(([key, text]) => `| \`${key}\` | ${text.replace(/\|/g, '\\|').replace(/\n/g, ' ⏎ ')} |`),
    ].join('\n'),
};

const BLOCK = /(<!-- generated: ([a-z -]+?) -->\n)[\s\S]*?(<!-- \/generated -->)/g;

/** A page with its generated blocks filled in; throws on a marker no generator knows. */
export function render(text: string, file = 'the page'): string {
  return text.replace(BLOCK, (_match, open: string, name: string, close: string) => {
    const generate = GENERATED[name];
    if (!generate) throw new Error(`${file}: no generated block named "${name}"; known: ${Object.keys(GENERATED).join(', ')}`);
    return `${open}${generate()}\n${close}`;
  });
}

/** The names of the generated blocks a page uses. */
export function blocksIn(text: string): string[] {
  return [...text.matchAll(BLOCK)].map((match) => match[2]!);
}

/** README.md and every page of docs/, relative to the package root. */
export function docFiles(): string[] {
  return ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).sort().map((name) => `docs/${name}`)];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let changed = 0;
  for (const file of docFiles()) {
    const path = join(ROOT, file);
    const before = readFileSync(path, 'utf8');
    const after = render(before, file);
    if (after !== before) {
      writeFileSync(path, after);
      changed++;
      console.log(`docs: ${file} updated`);
    }
  }
  console.log(changed === 0 ? 'docs: up to date' : `docs: ${changed} file(s) updated`);
}
