#!/usr/bin/env bash
# Run this collection's molecule scenarios (`molecule test -s NAME`, one after another) with the
# repo's venv, then leak-scan each one's whole output for the tokens it issued.
#
#   extensions/molecule/run.sh [SCENARIO...]
#
# Default scenarios: rotate rotate_failures, plus rotate_quota (takes over a minute by design)
# when TIFLUX_INCLUDE_SLOW=1 (`make molecule-full`, `make test-full`).
#
# Isolation: ANSIBLE_HOME=tests/output/molecule/ansible_home, so molecule's prerun installs the
# collection built from this tree into a directory of its own, and every ansible-playbook of the
# scenarios reads exactly that install (molecule.yml sets ANSIBLE_COLLECTIONS_PATH from it): an
# older copy in ~/.ansible/collections cannot shadow the tree. Logs, reports and the output of the
# scenarios' own ansible-playbook runs go to tests/output/molecule/artifacts/SCENARIO.
#
# Environment: VENV (default .venv), TIFLUX_INCLUDE_SLOW=1, MOLECULE_ARGS (extra `molecule test` args).
# Needs root, openssh-server (sshd), openssl. Ends with "molecule: N passed, N failed".
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$repo" || exit 2
venv=$(cd "${VENV:-.venv}" && pwd -P) || exit 2

if [[ $# -gt 0 ]]; then
    scenarios=("$@")
else
    scenarios=(rotate rotate_failures)
    if [[ -n "${TIFLUX_INCLUDE_SLOW:-}" ]]; then
        scenarios+=(rotate_quota)
    else
        echo "molecule: rotate_quota skipped (slow: over a minute by design); TIFLUX_INCLUDE_SLOW=1 or make molecule-full runs it"
    fi
fi

missing=()
[[ -x /usr/sbin/sshd ]] || missing+=(openssh-server)
command -v openssl >/dev/null || missing+=(openssl)
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "molecule: missing system packages: ${missing[*]} (apt-get install ${missing[*]})" >&2
    exit 2
fi
if [[ $(id -u) -ne 0 ]]; then
    echo "molecule: the scenarios create users and start sshd: run as root" >&2
    exit 2
fi

out="$repo/tests/output/molecule"
export ANSIBLE_HOME="$out/ansible_home"
export TIFLUX_MOLECULE_ARTIFACTS="$out/artifacts"
export PATH="$venv/bin:$PATH"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 NO_COLOR=1 PY_COLORS=0
# a fresh install of the collection each run (molecule's prerun installs it again anyway)
rm -rf "$ANSIBLE_HOME/collections"
mkdir -p "$out/logs" "$ANSIBLE_HOME"

# pass molecule's output through; write "step seconds" lines for each step to $1
time_steps() {
    local steps_file=$1 line step started=""
    local re_start='\[[^ ]+ > ([a-z_]+)\] Executing$' re_end='\[[^ ]+ > ([a-z_]+)\] .*Executed:'
    : >"$steps_file"
    while IFS= read -r line; do
        printf '%s\n' "$line"
        if [[ "$line" =~ $re_start ]]; then
            step=${BASH_REMATCH[1]}
            started=$EPOCHREALTIME
        elif [[ -n "$started" && "$line" =~ $re_end ]]; then
            awk -v s="$started" -v e="$EPOCHREALTIME" -v n="$step" 'BEGIN {printf "%s %.1f\n", n, e - s}' >>"$steps_file"
            started=""
        fi
    done
}

passed=0
failed=0
summary=()
for scenario in "${scenarios[@]}"; do
    log="$out/logs/$scenario.log"
    artifacts="$TIFLUX_MOLECULE_ARTIFACTS/$scenario"
    echo
    echo "== molecule test -s $scenario (log: ${log#"$repo/"})"
    start=$SECONDS
    # shellcheck disable=SC2086 # MOLECULE_ARGS is a list of words
    "$venv/bin/molecule" test -s "$scenario" ${MOLECULE_ARGS:-} 2>&1 | time_steps "$out/logs/$scenario.steps" | tee "$log"
    rc=${PIPESTATUS[0]}
    took=$((SECONDS - start))
    steps=$(awk '{printf "%s%s %ss", sep, $1, $2; sep = ", "}' "$out/logs/$scenario.steps")

    scan="no secrets list ($artifacts/secrets.txt): the scenario issued no token"
    scan_rc=0
    if [[ -s "$artifacts/secrets.txt" ]]; then
        scan_paths=("$log")
        for path in "$artifacts/logs" "$artifacts/reports"; do
            [[ -e "$path" ]] && scan_paths+=("$path")
        done
        scan=$("$venv/bin/python" tests/utils/leak_scan.py --secrets-file "$artifacts/secrets.txt" "${scan_paths[@]}" 2>&1)
        scan_rc=$?
        rm -f "$artifacts/secrets.txt"
    elif [[ $rc -eq 0 ]]; then
        scan_rc=1
    fi
    echo "$scan"
    if [[ $rc -eq 0 && $scan_rc -eq 0 ]]; then
        result=PASS
        passed=$((passed + 1))
    else
        result=FAIL
        failed=$((failed + 1))
    fi
    summary+=("$(printf '  %-4s  %-16s %5ss  (molecule exit %s, leak scan exit %s)' "$result" "$scenario" "$took" "$rc" "$scan_rc")")
    summary+=("        steps: $steps")
done

echo
echo "== molecule scenarios"
printf '%s\n' "${summary[@]}"
echo "molecule: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
