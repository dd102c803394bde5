import { ensureServerBuilt } from './build-server.ts';

/**
 * `npm start` runs this first (prestart), in one process: the website (web/dist) and the server
 * (dist/) are built only when missing or older than their sources, so a restart costs a few
 * file-time checks and a fresh clone still needs only `npm install && npm start`.
 */
await import('../web/build-if-stale.ts');
await ensureServerBuilt();
