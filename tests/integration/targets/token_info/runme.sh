#!/usr/bin/env bash
set -eu
cd "$(dirname "$0")"
../../../utils/run_scanned.sh playbook.yml -i ../lookup_token/inventory.yml "$@"
