# Runbook: a static, cgo-built binary (SQLite is compiled in) on a distroless base.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=1 go build -trimpath \
      -tags 'sqlite_omit_load_extension netgo osusergo' \
      -ldflags "-s -w -X main.version=${VERSION} -linkmode external -extldflags -static" \
      -o /out/bot ./cmd/bot

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bot /usr/local/bin/bot
COPY --from=build /src/runbooks/examples /etc/runbook/runbooks
COPY --from=build /src/config.example.yaml /etc/runbook/config.example.yaml
# The database lives on /data and the configuration on /config; mount both.
ENV RUNBOOK_CONFIG=/config/config.yaml \
    RUNBOOK_STORE__PATH=/data/runbook.db \
    RUNBOOK_RUNBOOKS__DIR=/etc/runbook/runbooks
VOLUME ["/data", "/config"]
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/bot"]
CMD ["run"]
