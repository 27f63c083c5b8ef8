# syntax=docker/dockerfile:1
# Build a static binary (pure-Go SQLite: no cgo), then run it as a non-root user on a slim
# Debian that also carries the optional fax tools (OCR in Italian, previews).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# .git stays out of the build context (.dockerignore): the commit comes as a build argument,
# docker build --build-arg COMMIT=$(git rev-parse HEAD) ., and `sportello version` prints it.
ARG COMMIT=""
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.commit=${COMMIT}" -o /out/sportello ./cmd/sportello

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata tesseract-ocr tesseract-ocr-ita imagemagick poppler-utils libtiff-tools \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/sportello --create-home sportello
COPY --from=build /out/sportello /usr/local/bin/sportello
USER 10001:10001
WORKDIR /var/lib/sportello
ENV SPORTELLO_CONFIG=/etc/sportello/sportello.yaml
EXPOSE 8080 2525
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["sportello", "probe", "--url", "http://127.0.0.1:8080/readyz"]
ENTRYPOINT ["sportello"]
CMD ["serve"]
