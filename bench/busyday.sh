#!/usr/bin/env bash
# A busy day through the real doors (issue 14): New York 311's busiest day, 130,400 contacts in
# the Linea Comune mix (CTI and Twilio calls, SMS, email, fax), sent by `sportello simulate
# --send-only` against one node on SQLite or two replicas on PostgreSQL (one simulator per
# replica, seeds 11 and 12), with the bare handler (`smsload bare`, 32 clients, 10 s) measured
# in the same run. Prints each simulator's report, each gateway's peak memory and what the
# database holds.
# Usage: bench/busyday.sh BIN sqlite|postgres [contacts]   (BIN: go build ./cmd/sportello)
# Needs PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres) for the postgres mode.
# BUSYDAY_WRITERS=N sets database.writers on the replicas (default 1).
# BUSYDAY_OCR=auto reads the faxes with tesseract during the run (default off, see below).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "$1") mode=$2 contacts=${3:-130400}
work=$(mktemp -d)
name=""
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
  if [[ -n $name ]]; then psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $name" >/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT
CGO_ENABLED=0 go build -o "$work/smsload" ./tools/smsload
CGO_ENABLED=0 go build -o "$work/smtpload" ./tools/smtpload
# The gateways check each mail's sender (SPF, DMARC): a local resolver answers, as on a mail
# host (this machine has no working DNS).
"$work/smtpload" dns -listen 127.0.0.1:5355 >/dev/null 2>&1 &

echo "bare handler, load $(cut -d' ' -f1 /proc/loadavg):"
"$work/smsload" bare -listen 127.0.0.1:8099 >/dev/null 2>&1 &
bare=$!
sleep 1
"$work/smsload" run -target http://127.0.0.1:8099 -c 32 -d 10s -prefix "SMbd$(date +%s)f" | tail -n 1
kill $bare

replicas=1 db=""
if [[ $mode == postgres ]]; then
  replicas=2
  name="busyday_$(date +%s%N | tail -c 10)"
  psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $name" >/dev/null
  db="postgres://postgres@127.0.0.1:5432/$name?sslmode=disable"
fi
# The demo's config with its secrets set, a fax gateway on the loopback, the local resolver,
# open all day (the run must not depend on the hour), fax OCR off unless BUSYDAY_OCR says
# otherwise: tesseract's seconds a page are background work that outlasts the run, and with it
# on the run measures what the doors keep while tesseract takes what CPU it is left.
"$bin" config print 2>/dev/null >"$work/demo.yaml"
pids=()
for r in $(seq 1 $replicas); do
  sed -e "s|^data_dir: .*|data_dir: $work/data$r|" \
    -e "s|^database_url: .*|database_url: \"$db\"|" \
    -e "s|^public_url: .*|public_url: http://127.0.0.1:810$r|" \
    -e "s|^  listen: 127.0.0.1:8080|  listen: 127.0.0.1:810$r|" \
    -e "s|^  listen: 127.0.0.1:2525|  listen: 127.0.0.1:260$r|" \
    -e "s|^  auth_token: .*|  auth_token: busydaytwiliotoken0123|" \
    -e "s|^  token: '\*\*\*\*\*\*\*\*'|  token: busydayctitoken0123456789|" \
    -e 's|^  gateways: \[\]|  gateways: [{sender: "@fax.example", networks: [127.0.0.0/8]}]|' \
    -e 's|^  dns_server: ""|  dns_server: 127.0.0.1:5355|' \
    -e "s|^  ocr: auto|  ocr: \"${BUSYDAY_OCR:-off}\"|" \
    -e "s|^  writers: 1\$|  writers: ${BUSYDAY_WRITERS:-1}|" \
    -e '/^business_hours:/,/^  close:/{s|^  open: .*|  open: "00:00"|;s|^  close: .*|  close: "23:59"|;s|^    - sat|    - sat\n    - sun|}' \
    "$work/demo.yaml" >"$work/r$r.yaml"
  mkdir -p "$work/data$r"
  # BUSYDAY_PPROF=ADDR serves the first gateway's profiles there (SPORTELLO_PPROF).
  pprof=""
  if [[ $r == 1 ]]; then pprof=${BUSYDAY_PPROF:-}; fi
  SPORTELLO_PPROF=$pprof "$bin" serve --config "$work/r$r.yaml" >"$work/serve$r.log" 2>&1 &
  pids+=($!)
done
for r in $(seq 1 $replicas); do
  for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:810$r/readyz" >/dev/null && break; sleep 0.2; done
  if ! curl -sf "http://127.0.0.1:810$r/readyz" >/dev/null; then
    echo "gateway $r did not start:" >&2
    tail -n 20 "$work/serve$r.log" >&2
    exit 1
  fi
done
echo "$replicas gateway(s) ready, load $(cut -d' ' -f1 /proc/loadavg)"
sims=()
for r in $(seq 1 $replicas); do
  "$bin" simulate --config "$work/r$r.yaml" --contacts $((contacts / replicas)) --workers $((32 / replicas)) \
    --seed $((10 + r)) --send-only >"$work/sim$r.out" 2>&1 &
  sims+=($!)
done
status=0
for p in "${sims[@]}"; do wait "$p" || status=1; done
for r in $(seq 1 $replicas); do
  echo "--- simulator $r"
  tr '\r' '\n' <"$work/sim$r.out" | grep -v '^sending ' || true
  echo "gateway $r peak memory: $(grep VmHWM "/proc/${pids[$((r - 1))]}/status")"
done
# With BUSYDAY_OCR=auto: how far the fax documents' OCR and previews got by the run's end.
if [[ $mode == postgres ]]; then
  echo "database holds $(psql -tA -h 127.0.0.1 -U postgres -d "$name" -c 'SELECT COUNT(*) FROM contacts') contacts"
  echo "deadlocks reported by PostgreSQL for the run's database: $(psql -tA -h 127.0.0.1 -U postgres -c "SELECT deadlocks FROM pg_stat_database WHERE datname = '$name'")"
  # A plan that scans a growing table shows here first (autovacuum is off on these machines).
  echo "rows read by sequential scans (the three largest tables by it):"
  psql -tA -h 127.0.0.1 -U postgres -d "$name" -c "SELECT relname || ' ' || seq_scan || ' scans, ' || seq_tup_read || ' rows' FROM pg_stat_user_tables ORDER BY seq_tup_read DESC LIMIT 3"
  echo "fax document jobs by state: $(psql -tA -h 127.0.0.1 -U postgres -d "$name" -c "SELECT string_agg(state || ' ' || n, ', ') FROM (SELECT state, COUNT(*) AS n FROM river_job WHERE kind = 'fax_document' GROUP BY state) s")"
else
  echo "database holds $(sqlite3 "$work/data1/sportello.db" 'SELECT COUNT(*) FROM contacts' 2>/dev/null || echo '? (no sqlite3)') contacts"
  echo "fax document jobs by state: $(sqlite3 "$work/data1/sportello.db" "SELECT group_concat(state || ' ' || n, ', ') FROM (SELECT state, COUNT(*) AS n FROM river_job WHERE kind = 'fax_document' GROUP BY state)" 2>/dev/null || echo '? (no sqlite3)')"
fi
grep -h -i '"level":"error"\|level=ERROR' "$work"/serve*.log | head -n 5 || true
exit $status
