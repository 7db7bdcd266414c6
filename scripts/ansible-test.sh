#!/usr/bin/env bash
# Run ansible-test on the working tree of this collection.
#
#   scripts/ansible-test.sh VENV COMMAND [ANSIBLE-TEST ARGS...]
#   e.g. scripts/ansible-test.sh .venv sanity
#        scripts/ansible-test.sh .venv-2.21 integration simulator_smoke -v
#
# ansible-test only accepts a collection that sits at
# .../ansible_collections/<namespace>/<name> (a symlink is resolved and rejected),
# so this copies every file git knows of or would add (git ls-files -co
# --exclude-standard: uncommitted work is tested too, ignored files are not) into
# a temporary tree, runs `ansible-test COMMAND --local --python X.Y` there with
# the Python of VENV, copies the tree's tests/output back to
# tests/output/runs/<label>/ and removes the tree.
#
# Offline help: ansible-test downloads a pip bootstrap script for the virtual
# environments of its sanity tests; scripts/get_pip_offline.py is placed in its
# cache instead (it bootstraps pip with ensurepip, then installs the wanted pip
# from the package index).
#
# Environment:
#   TIFLUX_COLOR=yes|no     colour output (default: yes on a terminal, else no)
#   TIFLUX_KEEP_TREE=1      keep the temporary tree (its path is printed)
#   TIFLUX_INCLUDE_SLOW=1   also run integration targets with the alias `slow`
#                           (left out by default; make test-full sets this)
set -euo pipefail

usage() {
    echo "usage: $0 VENV sanity|units|integration [ansible-test args...]" >&2
    exit 2
}

[[ $# -ge 2 ]] || usage

venv=$1
command=$2
shift 2

case "$command" in
    sanity | units | integration) ;;
    *) usage ;;
esac

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
venv=$(cd "$repo" && cd "$venv" && pwd -P)
python="$venv/bin/python"

if [[ ! -x "$venv/bin/ansible-test" ]]; then
    echo "error: $venv/bin/ansible-test not found (run make first to build the venv)" >&2
    exit 2
fi

py_version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
core_version=$("$python" -c 'from ansible.release import __version__; print(__version__)')
label="ansible-${core_version}-py${py_version}-${command}"

if [[ -n "${TIFLUX_COLOR:-}" ]]; then
    color=$TIFLUX_COLOR
elif [[ -t 1 ]]; then
    color=yes
else
    color=no
fi

# --- the pip bootstrap script ansible-test would download -------------------
pip_version=$("$python" - <<'EOF'
import pathlib, re
import ansible_test
source = pathlib.Path(ansible_test.__file__).parent / '_internal' / 'python_requirements.py'
match = re.search(r"\bpip='([0-9.]+)'", source.read_text())
print(match.group(1) if match else '')
EOF
)
if [[ -n "$pip_version" ]]; then
    cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
    # keep a real get-pip.py somebody placed there; refresh our own stand-in
    if [[ ! -e "$cache" ]] || grep -q 'tokenops.tiflux offline get-pip stand-in' "$cache"; then
        mkdir -p "$(dirname "$cache")"
        cp "$repo/scripts/get_pip_offline.py" "$cache"
    fi
else
    echo "warning: could not tell which pip version ansible-test bootstraps; sanity venvs may fail offline" >&2
fi

# --- the temporary ansible_collections tree ----------------------------------
namespace=$(sed -n 's/^namespace: *//p' "$repo/galaxy.yml" | tr -d "\"' ")
name=$(sed -n 's/^name: *//p' "$repo/galaxy.yml" | tr -d "\"' ")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tiflux-ansible-test.XXXXXX")
tree="$tmp/ansible_collections/$namespace/$name"
mkdir -p "$tree"

stop_leftover_simulators() {
    # the simulator launcher stops the simulator when its ansible-playbook exits;
    # this only catches one left behind by a killed run
    local pidfile pid
    while IFS= read -r -d '' pidfile; do
        pid=$(cat "$pidfile" 2>/dev/null || true)
        if [[ "$pid" =~ ^[0-9]+$ ]] && grep -qs tiflux_sim_launcher "/proc/$pid/cmdline"; then
            kill "$pid" 2>/dev/null || true
        fi
    done < <(find "$tree" -name 'tiflux_sim_launcher.pid' -print0 2>/dev/null)
}

cleanup() {
    local rc=$?
    rm -f "${env_file:-}"
    stop_leftover_simulators
    if [[ -d "$tree/tests/output" ]]; then
        rm -rf "$repo/tests/output/runs/$label"
        mkdir -p "$repo/tests/output/runs/$label"
        cp -a "$tree/tests/output/." "$repo/tests/output/runs/$label/" 2>/dev/null || true
        rm -rf "$repo/tests/output/runs/$label/.tmp"
    fi
    if [[ -n "${TIFLUX_KEEP_TREE:-}" ]]; then
        echo "kept the test tree: $tree" >&2
    else
        rm -rf "$tmp"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# copy what git tracks or would add, skipping tracked files deleted in the work tree
(
    cd "$repo"
    git ls-files -co --exclude-standard -z | while IFS= read -r -d '' file; do
        if [[ -e "$file" || -L "$file" ]]; then
            printf '%s\0' "$file"
        fi
    done | tar --null --no-recursion -T - -cf - | tar -xf - -C "$tree"
)

# --- run -----------------------------------------------------------------------
args=("$command" --local --python "$py_version" --color "$color")
case "$command" in
    sanity) args+=(--junit) ;;
    integration)
        # run every target and report all failures, not only the first; token_push is `destructive`
        # (it mounts a small tmpfs to test disk full and read-only) and CI runs as root on its own machine
        args+=(--continue-on-error --allow-destructive)
        # ansible-test fails on an --exclude that matches nothing: only exclude `slow` where it is used
        if [[ -z "${TIFLUX_INCLUDE_SLOW:-}" ]] && grep -qsx 'slow' "$tree"/tests/integration/targets/*/aliases; then
            args+=(--exclude slow/)
        fi
        ;;
esac

if [[ "$command" == units ]] && [[ -z "$(find "$tree/tests/unit" -name 'test_*.py' -print -quit 2>/dev/null)" ]]; then
    echo "ansible-test units (ansible-core $core_version, Python $py_version): no unit tests (tests/unit/**/test_*.py) yet, nothing to run"
    exit 0
fi

# ansible-test runs tests with an environment of its own (PATH, HOME and a few
# more), so variables such as TIFLUX_HYPOTHESIS_EXAMPLES would not reach the
# tests. Hand them over through the venv instead: a .pth file in its
# site-packages loads $VENV/tiflux-test-env.json (written here for this run,
# removed at exit) into os.environ of every Python process of the venv,
# without overriding variables that are already set.
site_packages=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
cat >"$site_packages/tiflux_test_env.pth" <<'EOF_PTH'
import os, sys, json; _p = os.path.join(sys.prefix, 'tiflux-test-env.json'); [os.environ.setdefault(_k, _v) for _k, _v in (json.load(open(_p)).items() if os.path.isfile(_p) else ())]
EOF_PTH
env_file="$venv/tiflux-test-env.json"
"$python" -c 'import json, os, sys; json.dump({k: v for k, v in os.environ.items() if k.startswith("TIFLUX_")}, open(sys.argv[1], "w"))' "$env_file"

echo "ansible-test ${args[*]} $* (ansible-core $core_version, Python $py_version, tree $tree)"
cd "$tree"
PATH="$venv/bin:$PATH" "$venv/bin/ansible-test" "${args[@]}" "$@"
