# syntax=docker/dockerfile:1

# Build stage: the Debian-based Go image, because it ships make and the
# build command lives in the Makefile only.
FROM golang:1.26-bookworm AS build
WORKDIR /src

# Dependencies first, in their own layer: it is reused until go.mod/go.sum change.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download

COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    make build VERSION="$VERSION" COMMIT="$COMMIT"

# Runtime stage: static binaries on distroless static, which carries just
# what they need (CA certificates for Accurate's HTTPS, tzdata for the
# mapping's Asia/Jakarta), no shell, running as the nonroot uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
ARG COMMIT=unknown
LABEL org.opencontainers.image.title="forstok-accurate-sync" \
      org.opencontainers.image.description="Posts Forstok invoices and payments to Accurate Online as faktur penjualan and penerimaan penjualan" \
      org.opencontainers.image.version="$VERSION" \
      org.opencontainers.image.revision="$COMMIT"

COPY --from=build /src/bin/forstok-accurate-sync /src/bin/accurate-sandbox /usr/local/bin/

# The mapping is not baked in: mount it (ConfigMap or volume) and point
# MAPPING_FILE at it, so a seller's settings change without a rebuild.
USER 65532:65532
EXPOSE 8080
# No HEALTHCHECK: the orchestrator probes liveness (/healthz) and readiness
# (/readyz) itself: Kubernetes with its probes, compose.yaml with
# `forstok-accurate-sync probe` (no shell or curl in this image).
ENTRYPOINT ["/usr/local/bin/forstok-accurate-sync"]
CMD ["serve"]
