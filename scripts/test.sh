#!/usr/bin/env bash
# Runs every test of Sportello on a fresh Debian machine of this kind (as root): installs the
# peers the tests need with apt-get, makes sure PostgreSQL runs on 127.0.0.1:5432, then runs
# the whole suite. Under CI=true a missing peer fails its tests instead of skipping them.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for pkg in dovecot-imapd swaks chromium tesseract-ocr tesseract-ocr-ita libtiff-tools imagemagick poppler-utils postgresql nginx-light; do
  have_pkg "$pkg" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "installing test peers: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# PostgreSQL on 127.0.0.1:5432 with trust auth for user postgres (as on these machines).
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432

export CGO_ENABLED=0
go vet ./...

# gofmt and golangci-lint (.golangci.yml), the version pinned here, installed once into .cache/bin.
unformatted=$(gofmt -l .)
if [[ -n "$unformatted" ]]; then
  echo "gofmt -l lists files that need formatting:" >&2
  echo "$unformatted" >&2
  exit 1
fi
if [[ ! -x .cache/bin/golangci-lint ]]; then
  GOBIN="$PWD/.cache/bin" go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
fi
.cache/bin/golangci-lint run --timeout 15m ./...

go test -count=1 -timeout 25m ./... "$@"
