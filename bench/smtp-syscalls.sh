#!/usr/bin/env bash
# System calls a mail costs the gateway on its SMTP path, per binary: pwrite64 (SQLite's log
# frames, two a frame), fdatasync (commits) and write (SMTP replies), counted by perf over N
# mails after 5,000 to warm up, each binary on a fresh data folder. Counts repeat within a few
# per cent from run to run where throughput does not, so a change in the pages a commit
# writes shows here (tools/walstat says which tables and indexes wrote them).
# Usage: bench/smtp-syscalls.sh N BIN...   (needs perf, from Debian's linux-perf)
set -euo pipefail
cd "$(dirname "$0")/.."
n=$1
shift
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -o "$work/smtpload" ./tools/smtpload
"$work/smtpload" dns -listen 127.0.0.1:5354 >"$work/dns.log" 2>&1 &
for bin in "$@"; do
  d=$(mktemp -d -p "$work")
  bench/smtp-config.sh "$d/data" >"$d/sportello.yaml"
  "$bin" serve --config "$d/sportello.yaml" >"$d/serve.log" 2>&1 &
  pid=$!
  sleep 3
  "$work/smtpload" -addr 127.0.0.1:2526 -conns 8 -n 5000 -label warm -data-dir "$d/data" >/dev/null
  perf stat -x, -e syscalls:sys_enter_pwrite64,syscalls:sys_enter_fdatasync,syscalls:sys_enter_write -p "$pid" -o "$d/perf" &
  perfpid=$!
  sleep 0.3
  rate=$("$work/smtpload" -addr 127.0.0.1:2526 -conns 8 -n "$n" -label "$bin" -data-dir "$d/data" | tail -n 1)
  kill -INT "$perfpid"
  wait "$perfpid" || true
  echo "$rate"
  awk -F, -v n="$n" -v bin="$bin" '/syscalls/ {sub("syscalls:sys_enter_", "", $3); s = s sprintf("%s %.2f  ", $3, $1/n)} END {print bin ": a mail: " s}' "$d/perf"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
done
