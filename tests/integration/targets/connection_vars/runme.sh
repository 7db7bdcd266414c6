#!/usr/bin/env bash
# The tiflux_* variables reach the simulator from the lookup, token_check, token_push (verify) and the
# rotate role; the ansible_tiflux_* names still work, with one deprecation message per name for the run.
set -eu
cd "$(dirname "$0")"
log="${OUTPUT_DIR:-$(mktemp -d)}/connection_vars.log"
ANSIBLE_FORKS=6 ANSIBLE_LOG_PATH="$log" ANSIBLE_DEPRECATION_WARNINGS=1 \
    ../../../utils/run_scanned.sh playbook.yml -i inventory.yml "$@"

deprecations=$(grep -o 'The variable [a-z_]* is deprecated: name it [a-z_]*' "$log" | sort | uniq -c)
echo "deprecation messages:"
echo "$deprecations"
expected="      1 The variable ansible_tiflux_api_url is deprecated: name it tiflux_api_url
      1 The variable ansible_tiflux_ca_path is deprecated: name it tiflux_ca_path"
if [[ "$deprecations" != "$expected" ]]; then
    echo "expected one message per 1.0 name for the run (three hosts use them), and none for tiflux_*" >&2
    exit 1
fi
