import { execFileSync, spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = path.join(import.meta.dirname, '..');

interface PackageJson {
  bin: Record<string, string>;
  files: string[];
  scripts: Record<string, string>;
}

async function packageJson(): Promise<PackageJson> {
  return JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as PackageJson;
}

// From a clone, `npx legacy-tls-fallback` answered "not found" even after `npm run build`: npx links the
// bin once into its own cache, and a link made while the bin did not exist stayed dangling.
describe('the command from a clone', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('names a bin that is committed, executable and packed, and builds on install (prepare)', async () => {
    const pkg = await packageJson();
    const bin = pkg.bin['legacy-tls-fallback'];
    expect(bin).toBe('./bin/legacy-tls-fallback.js');
    // git's own record of the file mode: what a fresh clone gets.
    const [mode] = execFileSync('git', ['ls-files', '--stage', '--', bin!], { cwd: ROOT, encoding: 'utf8' }).split(' ');
    expect(mode).toBe('100755');
    expect(pkg.files).toEqual(expect.arrayContaining(['bin', 'dist']));
    expect(pkg.scripts.prepare).toBe('node scripts/prepare.mjs');
  });

  it('prepare builds for npm ci, install, pack and publish, but not for npx in the package directory', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-prepare-'));
    // A package whose build only leaves a mark, so that the test sees whether prepare ran it.
    await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'x', version: '1.0.0', scripts: { build: 'node -e "require(\'fs\').writeFileSync(\'built\', \'yes\')"' } }));
    const prepare = (npmCommand: string) => {
      // Without npm_execpath the script finds npm on the PATH, whatever runs this test.
      const env: NodeJS.ProcessEnv = { ...process.env, npm_command: npmCommand, npm_execpath: undefined };
      return spawnSync(process.execPath, [path.join(ROOT, 'scripts/prepare.mjs')], { cwd: dir, env, encoding: 'utf8' });
    };
    expect(prepare('exec').status).toBe(0);
    await expect(readFile(path.join(dir, 'built'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
    for (const command of ['ci', 'install', 'pack']) {
      const run = prepare(command);
      expect(run.status, run.stderr).toBe(0);
      expect(await readFile(path.join(dir, 'built'), 'utf8'), command).toBe('yes');
      await rm(path.join(dir, 'built'));
    }
    // A failed build fails prepare, and so npm ci.
    await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'x', version: '1.0.0', scripts: { build: 'node -e "process.exit(3)"' } }));
    expect(prepare('ci').status).not.toBe(0);
  });

  it('says how to build when dist/ is missing, instead of failing with a stack trace', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-bin-'));
    await mkdir(path.join(dir, 'bin'));
    await copyFile(path.join(ROOT, 'bin/legacy-tls-fallback.js'), path.join(dir, 'bin/legacy-tls-fallback.js'));
    const run = spawnSync(process.execPath, [path.join(dir, 'bin/legacy-tls-fallback.js'), '--version'], { encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('not built yet');
    expect(run.stderr).toContain('npm ci');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('runs the built CLI with its arguments once dist/ exists, and lets the CLI set the exit code', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-bin-'));
    await mkdir(path.join(dir, 'bin'));
    await mkdir(path.join(dir, 'dist/cli'), { recursive: true });
    await copyFile(path.join(ROOT, 'bin/legacy-tls-fallback.js'), path.join(dir, 'bin/legacy-tls-fallback.js'));
    // A stand-in for the compiled CLI: what matters here is that the shim hands over to it.
    await writeFile(path.join(dir, 'dist/cli/bin.js'), "process.stdout.write(JSON.stringify(process.argv.slice(2)));\nprocess.exitCode = 3;\n");
    await writeFile(path.join(dir, 'package.json'), '{"type": "module"}\n');
    const run = spawnSync(process.execPath, [path.join(dir, 'bin/legacy-tls-fallback.js'), 'demo', '--listen', '0'], { encoding: 'utf8' });
    expect(run.stdout).toBe('["demo","--listen","0"]');
    expect(run.status).toBe(3);
  });

  it('does not mistake a module missing inside the CLI for an unbuilt CLI', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-bin-'));
    await mkdir(path.join(dir, 'bin'));
    await mkdir(path.join(dir, 'dist/cli'), { recursive: true });
    await copyFile(path.join(ROOT, 'bin/legacy-tls-fallback.js'), path.join(dir, 'bin/legacy-tls-fallback.js'));
    await writeFile(path.join(dir, 'dist/cli/bin.js'), "import './gone.js';\n");
    await writeFile(path.join(dir, 'package.json'), '{"type": "module"}\n');
    const run = spawnSync(process.execPath, [path.join(dir, 'bin/legacy-tls-fallback.js')], { encoding: 'utf8' });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('gone.js');
    expect(run.stderr).not.toContain('not built yet');
  });
});
