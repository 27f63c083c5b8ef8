#!/usr/bin/env bash
# Inbound SMS webhook benchmark (issue 2): the real binary on embedded SQLite, every webhook
# stored durably before its 200, against a bare handler that only parses the form, checks the
# signature and answers empty TwiML. Alternating rounds in the same run; prints both rates,
# the ratio, p99, and how many acknowledged webhooks were stored.
# Usage: bench/sms.sh [rounds] [seconds] [clients]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3} secs=${2:-10} conc=${3:-32}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -o "$work/sportello" ./cmd/sportello
CGO_ENABLED=0 go build -o "$work/smsload" ./tools/smsload
cat > "$work/sportello.yaml" <<YAML
data_dir: $work/data
public_url: https://sportello.test
http: {listen: 127.0.0.1:8098}
smtp: {listen: ""}
log: {level: warn}
business_hours: {days: [mon, tue, wed, thu, fri, sat, sun], open: "00:00", close: "23:59"}
twilio: {auth_token: testauthtoken0123456789}
shared_numbers: ["+39055055"]
comuni: [{id: firenze, name: Comune di Firenze, phone_numbers: ["+390552768000"]}]
YAML
"$work/sportello" serve --config "$work/sportello.yaml" >"$work/serve.log" 2>&1 &
"$work/smsload" bare --listen 127.0.0.1:8099 >"$work/bare.log" 2>&1 &
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:8098/readyz >/dev/null && break; sleep 0.2; done
sleep 1
total_ok=0 prefixes=()
for r in $(seq 1 "$rounds"); do
  b=$("$work/smsload" run -target http://127.0.0.1:8099 -c "$conc" -d "${secs}s" | tail -n 1)
  p="SMa${r}f"
  g=$("$work/smsload" run -target http://127.0.0.1:8098 -c "$conc" -d "${secs}s" -prefix "$p" | tail -n 1)
  prefixes+=("$p")
  br=$(echo "$b" | sed 's/.*"rate_per_s":\([0-9.]*\).*/\1/')
  gr=$(echo "$g" | sed 's/.*"rate_per_s":\([0-9.]*\).*/\1/')
  gok=$(echo "$g" | sed 's/.*"ok":\([0-9]*\).*/\1/')
  gp99=$(echo "$g" | sed 's/.*"p99_ms":\([0-9.]*\).*/\1/')
  total_ok=$((total_ok + gok))
  printf 'round %d: bare %8.0f req/s   sportello %8.0f req/s   ratio %.3f   sportello p99 %s ms\n' "$r" "$br" "$gr" "$(echo "$gr / $br" | bc -l)" "$gp99"
done
stored=0
for p in "${prefixes[@]}"; do
  n=$("$work/smsload" count -data-dir "$work/data" -prefix "$p")
  stored=$((stored + n))
done
echo "acknowledged $total_ok, stored $stored"
[ "$stored" -ge "$total_ok" ] || { echo "LOSS: $((total_ok - stored)) acknowledged webhooks not stored"; exit 1; }
