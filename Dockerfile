# syntax=docker/dockerfile:1
# vigil in a container: the static binary scripts/release.sh builds (the one
# `make release` ships), on a distroless base, as a non-root user, with a
# health check on the ops listener's /health.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t vigil .
#   docker run -v /etc/vigil:/etc/vigil:ro -v vigil-data:/var/lib/vigil vigil

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG TARGETOS=linux
ARG TARGETARCH=amd64
ARG VERSION=dev
ARG COMMIT=unknown
RUN VERSION="${VERSION}" COMMIT="${COMMIT}" DIST=/out scripts/release.sh "${TARGETOS}/${TARGETARCH}"

FROM gcr.io/distroless/static-debian12:nonroot
ARG TARGETOS=linux
ARG TARGETARCH=amd64
COPY --from=build /out/vigil-${TARGETOS}-${TARGETARCH} /usr/local/bin/vigil
USER 65532:65532
WORKDIR /var/lib/vigil
VOLUME ["/var/lib/vigil"]
# The ops listener (/health, /metrics), the compute axon, the Kaspa API.
EXPOSE 9100 9091 8000
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["/usr/local/bin/vigil", "health"]
ENTRYPOINT ["/usr/local/bin/vigil"]
CMD ["validator", "--config", "/etc/vigil/validator.yaml"]
