import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

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
  // Imported only when needed: loading Vite costs a start (or a restart) time for nothing.
  const { build } = await import('vite');
  await build({ configFile: path.join(webDir, 'vite.config.ts'), logLevel: 'warn' });
}
