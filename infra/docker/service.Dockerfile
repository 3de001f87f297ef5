# One multi-stage build for every Shouhu service; docker-compose builds each
# service's own image from it with `--build-arg SERVICE=<name>` (gateway,
# registry, …), so the steps cannot drift apart between services.
#
#   docker build -f infra/docker/service.Dockerfile --build-arg SERVICE=registry -t shouhu/registry .

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# Manifests first: the dependency layer is rebuilt only when they change.
COPY package.json package-lock.json ./
COPY packages/contracts/package.json packages/contracts/
COPY packages/kit/package.json packages/kit/
COPY packages/db/package.json packages/db/
COPY packages/messaging/package.json packages/messaging/
COPY packages/auth/package.json packages/auth/
COPY packages/dev-issuer/package.json packages/dev-issuer/
COPY packages/testing/package.json packages/testing/
COPY packages/cn/package.json packages/cn/
COPY packages/spreadsheet/package.json packages/spreadsheet/
COPY packages/runtime/package.json packages/runtime/
COPY packages/attachments/package.json packages/attachments/
COPY packages/dev-s3/package.json packages/dev-s3/
COPY packages/dev-sms/package.json packages/dev-sms/
COPY services/gateway/package.json services/gateway/
COPY services/registry/package.json services/registry/
COPY services/pairing/package.json services/pairing/
COPY services/visits/package.json services/visits/
COPY services/notifications/package.json services/notifications/
COPY services/health/package.json services/health/
COPY services/reporting/package.json services/reporting/
COPY services/activities/package.json services/activities/
RUN npm ci --no-audit --no-fund

FROM deps AS build
ARG SERVICE
COPY . .
# Prisma generate needs no engine download (its query compiler is WASM), only a
# path to some existing file for the schema engine it will not run.
RUN test -n "$SERVICE" && touch /tmp/prisma-schema-engine \
 && PRISMA_SCHEMA_ENGINE_BINARY=/tmp/prisma-schema-engine npx turbo run build --filter="@shouhu/${SERVICE}..." \
 && npm prune --omit=dev

FROM ${NODE_IMAGE} AS runtime
ARG SERVICE
ENV NODE_ENV=production SERVICE=${SERVICE}
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/packages ./packages
COPY --from=build --chown=node:node /app/services/${SERVICE}/package.json ./services/${SERVICE}/
COPY --from=build --chown=node:node /app/services/${SERVICE}/dist ./services/${SERVICE}/dist
COPY --from=build --chown=node:node /app/services/${SERVICE}/prisma ./services/${SERVICE}/prisma
# The realm export: notifications reads its staff directory from it.
COPY --from=build --chown=node:node /app/infra/keycloak ./infra/keycloak
# The handover pack (交接包) embeds a subset of Noto Sans CJK (registry HANDOVER_FONT_PATH, default Debian's
# fonts-noto-cjk path): installed in the registry's image only.
RUN if [ "$SERVICE" = "registry" ]; then \
      apt-get update && apt-get install -y --no-install-recommends fonts-noto-cjk && rm -rf /var/lib/apt/lists/*; \
    fi
# The gateway's audit journal (AUDIT_JOURNAL_DIR in compose): a volume mounted here starts
# out with this directory's owner, so the node user can write it.
RUN mkdir -p /var/lib/shouhu/audit-journal && chown -R node:node /var/lib/shouhu
USER node
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Migrations run at start (advisory-locked), so replicas can start together.
CMD ["sh", "-c", "exec node services/${SERVICE}/dist/main.js"]
