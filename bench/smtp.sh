#!/usr/bin/env bash
# SMTP ingest benchmark (issue 3): 3 KB messages over 8 connections into the real binary
# (every message stored durably before its 250) against mailpit v1.33.1 (its own SQLite
# store), alternating, in the same run. Prints both rates, the ratio and what each stored.
# Usage: bench/smtp.sh [rounds] [messages per round]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3} n=${2:-10000}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
command -v mailpit >/dev/null || PATH=$PATH:$(go env GOPATH)/bin
command -v mailpit >/dev/null || go install github.com/axllent/mailpit@v1.33.1
CGO_ENABLED=0 go build -o "$work/sportello" ./cmd/sportello
CGO_ENABLED=0 go build -o "$work/smtpload" ./tools/smtpload
bench/smtp-config.sh "$work/data" >"$work/sportello.yaml"
# The gateway checks each sender (SPF, DMARC) before its 250: a local resolver answers, as on
# a real mail host (this machine has no working DNS; each lookup would time out).
"$work/smtpload" dns -listen 127.0.0.1:5354 >"$work/dns.log" 2>&1 &
mkdir -p "$work/mailpit"
mailpit -d "$work/mailpit/mailpit.db" -m 0 -s 127.0.0.1:1026 -l 127.0.0.1:8026 --disable-version-check --smtp-disable-rdns -q >"$work/mailpit.log" 2>&1 &
"$work/sportello" serve --config "$work/sportello.yaml" >"$work/serve.log" 2>&1 &
sleep 4
for r in $(seq 1 "$rounds"); do
  "$work/smtpload" -addr 127.0.0.1:1026 -conns 8 -n "$n" -label "mailpit round $r" -mailpit http://127.0.0.1:8026 | tail -n 1
  "$work/smtpload" -addr 127.0.0.1:2526 -conns 8 -n "$n" -label "sportello round $r" -data-dir "$work/data" | tail -n 1
done
