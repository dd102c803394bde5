import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The answer carries a secret (an API key, a signing secret, a password, a token): it is sent
     * with `Cache-Control: no-store` so no browser, proxy or CDN cache keeps a copy.
     */
    carriesSecret?: boolean;
  }
}

/** Route config of a route whose answer carries a secret (combine with other config by spreading). */
export const carriesSecret = { carriesSecret: true } as const;

/** Adds the no-store header to every answer of a route marked `carriesSecret`, errors included. */
export function registerNoStore(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.routeOptions.config?.carriesSecret) reply.header('cache-control', 'no-store');
    return payload;
  });
}
