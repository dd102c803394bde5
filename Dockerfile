# Nova SMS: the server compiled to JavaScript, on Node 20 (Debian slim), run as an unprivileged user.
# compose.yaml runs two of these behind Caddy, with PostgreSQL and Redis. README "Deploy".

# --- build: every dependency (TypeScript, Vite), then `npm run build` (web/dist and dist/) ---
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# --- runtime: production dependencies and the build output only ---
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    NOVA_DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
# The data folder (server secret when NOVA_SECRET is unset, the embedded database without
# DATABASE_URL) belongs to the user the server runs as; the code stays root's, read-only to it.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 3000
# Liveness only: a database outage must not get every instance restarted. The proxy routes by
# /readyz instead (deploy/Caddyfile).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM: the server stops taking connections, answers open long-polls and exits within 10 s.
STOPSIGNAL SIGTERM
# Migrations are applied on start by every instance (one at a time, under a PostgreSQL lock).
CMD ["node", "--enable-source-maps", "dist/main.js"]
