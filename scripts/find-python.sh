#!/usr/bin/env bash
# Print the path of the first working Python interpreter among the given
# versions (in the order given), or nothing and exit 1 when none is found.
#
#   scripts/find-python.sh 3.13 3.12
#
# For each version X.Y it tries, in order: pyenv installs
# ($PYENV_ROOT/versions/X.Y*/bin/python3, newest patch release first), then
# pythonX.Y on PATH. A candidate counts only if it runs and reports X.Y (pyenv
# shims of versions that are not active fail that check).
set -euo pipefail

pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}

works() {
    local candidate=$1 version=$2
    [[ -x "$candidate" ]] || return 1
    [[ "$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" == "$version" ]] || return 1
    "$candidate" -c 'import venv, ensurepip' 2>/dev/null
}

for version in "$@"; do
    if [[ -d "$pyenv_root/versions" ]]; then
        while IFS= read -r candidate; do
            if works "$candidate" "$version"; then
                echo "$candidate"
                exit 0
            fi
        done < <(find "$pyenv_root/versions" -maxdepth 3 -path "*/versions/$version*/bin/python3" 2>/dev/null | sort -rV)
    fi
    if candidate=$(command -v "python$version" 2>/dev/null) && works "$candidate" "$version"; then
        echo "$candidate"
        exit 0
    fi
done

exit 1
