# syntax=docker/dockerfile:1
# Ferry's image. Build: `docker build -t ferry .`  Run one role: `docker run ferry web` (or `worker`,
# or `serve` for both, the default). The image holds the compiled JavaScript, production
# node_modules, and the kustomize, helm and sops binaries the renderers run; nothing else.
# Runs as uid 10001 and writes only under /tmp, so a read-only root filesystem with an emptyDir
# (or tmpfs) at /tmp is all it needs. test/dockerfile.test.ts checks every path this file uses.

ARG NODE_IMAGE=node:24-bookworm-slim
ARG GO_IMAGE=golang:1.26-bookworm

# kustomize, helm and sops, from the Go modules pinned in tools/ and with the same flags as the tests use.
# Go's checksum database is not needed: the committed go.sum files pin every module's hash.
FROM ${GO_IMAGE} AS renderers
WORKDIR /src
COPY scripts/renderers scripts/renderers
COPY tools/kustomize tools/kustomize
COPY tools/helm tools/helm
COPY tools/sops tools/sops
RUN CGO_ENABLED=0 FERRY_CACHE=/cache scripts/renderers > /tmp/renderers \
 && mkdir /out && cp "$(cat /tmp/renderers)/kustomize" "$(cat /tmp/renderers)/helm" "$(cat /tmp/renderers)/sops" /out/

# The TypeScript build: src/ compiled to dist/.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src src
RUN npm run build

# Production dependencies only.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
# npm and corepack are not needed to run Ferry: leave them out of the image.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack
# NODE_OPTIONS: Node 24 lets V8's young generation grow to 128 MB, which a worker applying thousands
# of objects fills (its RSS peaked near 300 MB); 16 MB semi-spaces cost no release time (bench/intake.bench.ts).
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-semi-space-size=16 \
    HOME=/tmp \
    TMPDIR=/tmp \
    XDG_CACHE_HOME=/tmp/.cache \
    FERRY_DATA_DIR=/tmp/ferry \
    LOG_FORMAT=json \
    PORT=3000 \
    FERRY_KUSTOMIZE=/usr/local/bin/kustomize \
    FERRY_HELM=/usr/local/bin/helm \
    FERRY_SOPS=/usr/local/bin/sops
WORKDIR /app
COPY --from=renderers /out/kustomize /out/helm /out/sops /usr/local/bin/
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json app.yml ./
COPY bin bin
USER 10001:10001
EXPOSE 3000
ENTRYPOINT ["node", "/app/bin/ferry.js"]
CMD ["serve"]
