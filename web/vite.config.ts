import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The website is built to web/dist and served by the Fastify server itself (src/http/website.ts).
// `npm run dev:web` proxies /api to a running `npm start` for hot reload while editing.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Everything is bundled and served on-site: no CDN, no external fonts or scripts.
    assetsInlineLimit: 0,
  },
  server: {
    proxy: { '/api': 'http://localhost:3000' },
  },
});
