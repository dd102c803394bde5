import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { build } from 'vite';

/**
 * `npm start` and `npm test` run this first: it builds the website (web/dist) when the build is
 * missing or older than any source file, so a fresh clone needs only `npm install && npm start`.
 */
const webDir = import.meta.dirname;
const builtIndex = path.join(webDir, 'dist', 'index.html');

function newestSourceTime(): number {
  const sources = [path.join(webDir, 'index.html'), path.join(webDir, 'vite.config.ts')];
  for (const file of readdirSync(path.join(webDir, 'src'), { recursive: true, encoding: 'utf8' })) {
    sources.push(path.join(webDir, 'src', file));
  }
  return Math.max(...sources.map((file) => statSync(file).mtimeMs));
}

if (!existsSync(builtIndex) || statSync(builtIndex).mtimeMs < newestSourceTime()) {
  console.log('Building the website (web/dist)…');
  await build({ configFile: path.join(webDir, 'vite.config.ts'), logLevel: 'warn' });
}
