# Runbook: a static, cgo-built binary (SQLite is compiled in) on a distroless base.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The build context has no .git (.dockerignore), so the commit comes in as arguments:
# docker build --build-arg VERSION=$(git describe --tags --always) \
#   --build-arg COMMIT=$(git rev-parse HEAD) --build-arg DATE=$(git log -1 --format=%cI)
ARG VERSION=dev
ARG COMMIT=
ARG DATE=
RUN CGO_ENABLED=1 go build -trimpath \
      -tags 'sqlite_omit_load_extension netgo osusergo' \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${DATE} -linkmode external -extldflags -static" \
      -o /out/bot ./cmd/bot
# /data and /config belong to the user the bot runs as: Docker copies an image
# directory's owner into a new named volume mounted there, so the bot can create its
# database on a fresh volume.
RUN mkdir -p /out/root/data /out/root/config

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bot /usr/local/bin/bot
COPY --from=build --chown=65532:65532 /out/root/ /
COPY --from=build /src/runbooks/examples /etc/runbook/runbooks
COPY --from=build /src/config.example.yaml /etc/runbook/config.example.yaml
# RUNBOOK_DEFAULT__<KEY> applies only where the mounted config.yaml and the operator's
# RUNBOOK_<KEY> say nothing: the file's store.path, runbooks.dir and http.addr win.
ENV RUNBOOK_CONFIG=/config/config.yaml \
    RUNBOOK_DEFAULT__STORE__PATH=/data/runbook.db \
    RUNBOOK_DEFAULT__RUNBOOKS__DIR=/etc/runbook/runbooks \
    RUNBOOK_DEFAULT__HTTP__ADDR=:9090
VOLUME ["/data", "/config"]
EXPOSE 9090
USER 65532:65532
# /healthz needs http.addr: the image's default is :9090; a config that sets
# http.addr to "" turns the listener off and makes the container unhealthy.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/bot", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/bot"]
CMD ["run"]
