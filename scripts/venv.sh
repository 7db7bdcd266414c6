#!/usr/bin/env bash
# Build one pinned venv, saying in one line what it does and how long it took.
#   scripts/venv.sh VENV PYTHON "LABEL" REQUIREMENTS CONSTRAINTS
# pip's own output goes to VENV/install.log (shown only when it fails).
set -euo pipefail
venv=$1 python=$2 label=$3 requirements=$4 constraints=$5
log=$(mktemp "${TMPDIR:-/tmp}/venv-install.XXXXXX")
trap 'rm -f "$log"' EXIT
if [[ -z "$python" ]]; then
    echo "venv $venv: no Python found for $label" >&2
    exit 1
fi
started=$SECONDS
printf 'venv %s: %s, from %s (pinned) ... ' "$venv" "$label" "$requirements"
rm -rf "$venv"
if ! { "$python" -m venv "$venv" &&
       "$venv/bin/python" -m pip install --quiet -r requirements/pip.txt &&
       "$venv/bin/python" -m pip install --quiet -r "$requirements" -c "$constraints"; } >"$log" 2>&1; then
    echo "failed after $((SECONDS - started))s"
    # a missing local index is one warning per package on some machines: not the cause
    grep -v "^WARNING: Location 'file:" "$log" | tail -40 >&2
    if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
        echo "$python cannot make venvs: apt-get install python3-venv (make deps does)" >&2
    fi
    exit 1
fi
cp "$log" "$venv/install.log"
touch "$venv/.installed"
echo "done ($((SECONDS - started))s)"
