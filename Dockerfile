# One image for every process; the command picks the role:
#   api (default):  node dist/apps/api/apps/api/src/main.js
#   migrations:     node dist/apps/api/apps/api/src/main.js migrate
#   worker:         node dist/apps/worker/apps/worker/src/main.js

ARG NODE_IMAGE=node:24-bookworm-slim

# --- deps: every dependency, for the build. Only the manifests are copied so this
# layer stays cached until package.json / package-lock.json change.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# --- build: compiles both apps; libs and migrations are compiled into each app's dist.
FROM deps AS build
COPY . .
RUN npm run build

# --- prod-deps: runtime dependencies only, installed separately so no dev tooling
# (Nest CLI, TypeScript, Jest, SWC) reaches the final image.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# --- runtime
FROM ${NODE_IMAGE} AS runtime

# tini as PID 1: forwards SIGTERM to node (which drains, see main.ts) and reaps zombies.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production
# glibc raises its mmap threshold after the first large free, so argon2's per-hash buffers
# (ARGON2_MEMORY_KIB, 19 MiB by default) land in malloc arenas and stay resident: about 70 MB
# after a handful of sign-ins. A fixed threshold keeps them mmapped and returned on free.
ENV MALLOC_MMAP_THRESHOLD_=131072
# Without a heap flag, Node 24's V8 sizes the young generation from the host's memory (about
# 100 MB more resident at rest); 8 MB is what npm start and the Kubernetes manifests use.
ENV NODE_OPTIONS=--max-semi-space-size=8
WORKDIR /app

# Code stays root-owned (read-only for the app user). Only .data is writable, for the
# embedded database that is used when DATABASE_URL is unset (mount a volume there).
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
RUN mkdir -p .data && chown node:node .data

USER node

EXPOSE 3000

# Liveness only (/health consults no dependency). Slim images have no curl; node has fetch.
# Meaningless for the worker and migrate commands: disable it there (see docker-compose.yml).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/apps/api/apps/api/src/main.js"]
