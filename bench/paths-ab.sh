#!/usr/bin/env bash
# A/B of two sportello binaries on the request paths, alternating, each round on a fresh data
# folder (and, for PostgreSQL, a fresh database): signed SMS webhooks on SQLite and on
# PostgreSQL (smsload run, 32 clients, 10 s), and SMTP ingest on SQLite (smtpload, 8,000 3 KB
# mails over 8 connections, with smtpload's DNS server as the resolver). Prints each round's
# rate, p99 and the server's CPU a message (from /proc/PID/stat).
# Usage: bench/paths-ab.sh ROUNDS BIN_A BIN_B   (binaries built with go build ./cmd/sportello)
# KINDS="sms-postgres" bench/paths-ab.sh ... runs only those paths (default: sms sms-postgres smtp).
# Needs PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=$1 a=$(realpath "$2") b=$(realpath "$3")
tools=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$tools"' EXIT
CGO_ENABLED=0 go build -o "$tools/smsload" ./tools/smsload
CGO_ENABLED=0 go build -o "$tools/smtpload" ./tools/smtpload
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
round() { # kind binary label
  local kind=$1 bin=$2 label=$3 work db="" name="" pid c0 c1 out n
  work=$(mktemp -d)
  if [[ $kind == sms-postgres ]]; then
    name="paths_ab_$(date +%s%N | tail -c 10)"
    psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $name" >/dev/null
    db="database_url: postgres://postgres@127.0.0.1:5432/$name?sslmode=disable"
  fi
  cat >"$work/sportello.yaml" <<YAML
data_dir: $work/data
public_url: https://sportello.test
http: {listen: 127.0.0.1:8098}
smtp: {listen: 127.0.0.1:2526}
log: {level: warn}
$db
business_hours: {days: [mon, tue, wed, thu, fri, sat, sun], open: "00:00", close: "23:59"}
twilio: {auth_token: testauthtoken0123456789}
email: {dns_server: 127.0.0.1:5354}
shared_numbers: ["+39055055"]
comuni: [{id: firenze, name: Comune di Firenze, phone_numbers: ["+390552768000"], email_addresses: ["urp@comune.fi.it"]}]
YAML
  "$bin" serve --config "$work/sportello.yaml" >"$work/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -sf http://127.0.0.1:8098/readyz >/dev/null && break; sleep 0.2; done
  sleep 1
  c0=$(cpu_ticks "$pid")
  if [[ $kind == smtp ]]; then
    out=$("$tools/smtpload" -addr 127.0.0.1:2526 -conns 8 -n 8000 -label "$label" -data-dir "$work/data" | tail -n 1)
    n=8000
  else
    out=$("$tools/smsload" run -target http://127.0.0.1:8098 -c 32 -d 10s -prefix "SMab$(date +%s)f" | tail -n 1)
    n=$(echo "$out" | sed 's/.*"ok":\([0-9]*\).*/\1/')
  fi
  c1=$(cpu_ticks "$pid")
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  echo "$kind $label load $(cut -d' ' -f1 /proc/loadavg) cpu_us_per_msg $(((c1 - c0) * 10000 / n)) $out"
  rm -rf "$work"
  if [[ -n $name ]]; then psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE $name" >/dev/null; fi
}
"$tools/smtpload" dns -listen 127.0.0.1:5354 >/dev/null 2>&1 &
for kind in ${KINDS:-sms sms-postgres smtp}; do
  for r in $(seq 1 "$rounds"); do
    round "$kind" "$a" "A r$r"
    round "$kind" "$b" "B r$r"
  done
done
