import type { FastifyInstance, onSendHookHandler } from 'fastify';

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

/**
 * Adds the no-store header to every answer of a route marked `carriesSecret`, errors included.
 * A hook on those routes only: an app-wide onSend hook would cost every answer a promise (a few
 * per cent of a cached read such as a poll). Register it before the routes.
 */
export function registerNoStore(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    if (!route.config?.carriesSecret) return;
    const noStore: onSendHookHandler = (_request, reply, payload, done) => {
      reply.header('cache-control', 'no-store');
      done(null, payload);
    };
    const existing = route.onSend === undefined ? [] : Array.isArray(route.onSend) ? route.onSend : [route.onSend];
    route.onSend = [...existing, noStore];
  });
}
