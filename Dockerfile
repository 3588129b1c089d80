# The asyncjob image, built with Docker: make docker-build.
#
# The same image as make image (hack/image, built without Docker): one static
# binary at /asyncjob on an empty base, its entrypoint, run as 65532:65532.
# One image for every subcommand: the Deployment's args choose
# "controller" or "api"; "entrypoint" wraps a job's command (the binary is
# static, so it can be copied into a job's image). See docs/image.md.

FROM golang:1.26 AS builder
ARG TARGETOS
ARG TARGETARCH
WORKDIR /src
# Modules first: this layer stays cached until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
# Only the packages the binary is built from (see .dockerignore).
COPY api/ api/
COPY cmd/ cmd/
COPY internal/ internal/
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -o /out/asyncjob ./cmd

FROM scratch
ARG VERSION=v0.1.0
LABEL org.opencontainers.image.source="https://github.com/asyncjob/asyncjob" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.title="asyncjob" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=builder /out/asyncjob /asyncjob
WORKDIR /
USER 65532:65532
ENTRYPOINT ["/asyncjob"]
