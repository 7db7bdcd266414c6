#!/usr/bin/env bash
# Write the full pin set of a venv to a constraints file.
#   scripts/freeze.sh VENV FILE "DESCRIPTION"
set -euo pipefail
venv=$1 file=$2 description=$3
{
    echo "# Full pin set for $venv ($description): pip freeze of a verified install."
    echo "# Regenerate: make requirements-freeze"
    "$venv/bin/python" -m pip freeze --exclude-editable | grep -v '^pip=='
} >"$file"
echo "wrote $file"
