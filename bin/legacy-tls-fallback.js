#!/usr/bin/env node
// The command, as package.json's "bin" names it. It only loads the compiled CLI, but it is a file that
// exists before any build: npx links the bin once into its cache, and a link made before dist/ was built
// used to stay broken ("not found") even after the build. Now that run explains what to do instead.
import { existsSync } from 'node:fs';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/bin.js', import.meta.url);
if (existsSync(fileURLToPath(entry))) {
  await import(entry.href);
} else {
  process.stderr.write(
    'legacy-tls-fallback: the command is not built yet (dist/ is missing). In a clone of the repository, run\n' +
      '  npm ci          (installs and builds; or npm run build if it is already installed)\n' +
      'then run the command again, or run it from the sources: npm run proxy -- --upstream URL\n',
  );
  process.exitCode = 1;
}
