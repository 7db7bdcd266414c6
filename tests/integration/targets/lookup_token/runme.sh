#!/usr/bin/env bash
set -eu
cd "$(dirname "$0")"
# The run's log (scanned for tokens with the rest of OUTPUT_DIR) holds the warnings the lookup displays.
export OUTPUT_DIR="${OUTPUT_DIR:-$(mktemp -d)}"
export ANSIBLE_LOG_PATH="$OUTPUT_DIR/ansible.log"
ANSIBLE_FORKS=10 ../../../utils/run_scanned.sh playbook.yml -i inventory.yml "$@"
read -r fingerprint expires_at < "$OUTPUT_DIR/expected_warning.txt"
count=$(grep -c "\[WARNING\]: token $fingerprint expires on $expires_at (in 10 days)" "$ANSIBLE_LOG_PATH" || true)
if [ "$count" != 1 ]; then
    echo "expected one expiry warning naming $fingerprint and $expires_at, found $count:" >&2
    grep -F "[WARNING]" "$ANSIBLE_LOG_PATH" >&2 || true
    exit 1
fi
echo "expiry warning: once for $fingerprint ($expires_at)"
