import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** The built React app (web/, built by `npm run build:web`; `npm start` and `npm test` build it when stale). */
export const websiteDistDir = path.resolve(import.meta.dirname, '../../web/dist');

/**
 * Serves the website at `/`: files from web/dist, and index.html for any other page a browser
 * asks for outside /api, so the app's own routes (/dashboard, /reset-password?token=…) survive a
 * reload. Unknown /api paths keep answering with the JSON 404 envelope. The security headers
 * (CSP, HSTS over HTTPS, …) are set for every answer in src/http/security-headers.ts.
 */
export async function websiteRoutes(app: FastifyInstance, options: { distDir?: string } = {}) {
  const root = options.distDir ?? websiteDistDir;
  await app.register(fastifyStatic, { root, serve: false });

  app.get('/*', { logLevel: 'warn', schema: { hide: true } }, async (request, reply) => {
    let pathname: string;
    try {
      pathname = decodeURIComponent(request.url.split('?')[0]);
    } catch {
      return reply.callNotFound();
    }
    if (pathname === '/api' || pathname.startsWith('/api/')) return reply.callNotFound();
    // The app's own routes are for browsers (they ask for text/html); an API client that
    // mistypes a path still gets the JSON 404 envelope.
    const wantsPage = pathname === '/' || (request.headers.accept ?? '').includes('text/html');
    if (!existsSync(path.join(root, 'index.html'))) {
      if (!wantsPage) return reply.callNotFound();
      return reply
        .status(503)
        .type('text/plain; charset=utf-8')
        .send('The website is not built yet: run `npm run build:web` (npm start does it for you).');
    }
    const file = path.resolve(root, `.${pathname}`);
    const isFile = file.startsWith(root + path.sep) && existsSync(file) && statSync(file).isFile();
    if (isFile && pathname.startsWith('/assets/')) {
      // Vite names assets by content hash, so they never change under the same name.
      return reply.sendFile(path.relative(root, file), { maxAge: '365d', immutable: true });
    }
    if (!isFile && !wantsPage) return reply.callNotFound();
    if (isFile) return reply.sendFile(path.relative(root, file), { maxAge: 0 });
    return reply.header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false });
  });
}
