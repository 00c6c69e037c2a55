// npm runs "prepare" after `npm ci` or `npm install` in a clone, before `npm pack` and `npm publish`, and
// when the package is installed from git: each time dist/ has to be built. It also runs it when
// `npx legacy-tls-fallback` is typed in the package's own directory, because npx first installs that
// directory into its cache. There the build is either done already (after npm ci: a second one only
// costs time) or impossible (before npm ci there is no TypeScript), and a failed prepare leaves npx's
// cache entry broken until it is cleared by hand. So npx (npm_command "exec") gets no build; the bin
// says how to build when dist/ is missing.
import { spawnSync } from 'node:child_process';
import process from 'node:process';

if (process.env.npm_command !== 'exec') {
  const npm = process.env.npm_execpath;
  // npm_execpath is npm's own CLI script: run it with this node, as npm itself would.
  const build = npm ? spawnSync(process.execPath, [npm, 'run', 'build'], { stdio: 'inherit' }) : spawnSync('npm', ['run', 'build'], { stdio: 'inherit', shell: true });
  process.exitCode = build.status ?? 1;
}
