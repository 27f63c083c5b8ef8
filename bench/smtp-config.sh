#!/usr/bin/env bash
# The gateway's config for the SMTP benchmarks (smtp.sh, smtp-syscalls.sh): SMTP on
# 127.0.0.1:2526, open all day, senders checked against smtpload's resolver on 127.0.0.1:5354.
# Usage: bench/smtp-config.sh DATA_DIR > sportello.yaml
set -euo pipefail
cat <<YAML
data_dir: $1
http: {listen: 127.0.0.1:8091}
smtp: {listen: 127.0.0.1:2526}
log: {level: warn}
business_hours: {days: [mon, tue, wed, thu, fri, sat, sun], open: "00:00", close: "23:59"}
email: {dns_server: 127.0.0.1:5354}
comuni: [{id: firenze, name: Comune di Firenze, phone_numbers: ["+390552768000"], email_addresses: ["urp@comune.fi.it"]}]
YAML
