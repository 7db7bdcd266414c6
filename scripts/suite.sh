#!/usr/bin/env bash
# Run make targets one after another under section headers, keep going past a
# failure, then print a summary (each step's result and time, and the test
# cases counted in the JUnit files the steps wrote) and exit non-zero if any
# step failed.
#
#   scripts/suite.sh sanity units simulator integration lint sanity-2.21 ...
#
# Steps named *-2.21 are reported as skipped when no Python >= 3.12 is found.
# TIFLUX_FAIL_FAST=1 stops at the first failing step.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$repo" || exit 2

rule() { printf '%*s\n' 78 '' | tr ' ' '='; }

have_221=yes
if ! scripts/find-python.sh 3.13 3.12 >/dev/null; then
    have_221=
fi

# results of this run only
rm -rf tests/output/runs

declare -a names=() results=() seconds=()
failed=0
suite_start=$SECONDS
total=$#
index=0

for step in "$@"; do
    index=$((index + 1))
    echo
    rule
    echo "== [$index/$total] make $step"
    rule
    start=$SECONDS
    if [[ "$step" == *-2.21 && -z "$have_221" ]]; then
        echo "skipped: no Python 3.13 or 3.12 found, ansible-core 2.21 is not tested here (install python3.12 or python3.13, or a pyenv one)"
        result=SKIP
    elif make --no-print-directory "$step"; then
        result=PASS
    else
        result=FAIL
        failed=$((failed + 1))
    fi
    names+=("$step")
    results+=("$result")
    seconds+=($((SECONDS - start)))
    echo "== make $step: $result ($((SECONDS - start))s)"
    if [[ "$result" == FAIL && -n "${TIFLUX_FAIL_FAST:-}" ]]; then
        break
    fi
done

echo
rule
echo "== Summary"
rule
for i in "${!names[@]}"; do
    printf '  %-4s  %-20s %5ss\n' "${results[$i]}" "${names[$i]}" "${seconds[$i]}"
done
echo "  total time $((SECONDS - suite_start))s"
skipped=0
for result in "${results[@]}"; do
    [[ "$result" == SKIP ]] && skipped=$((skipped + 1))
done
echo "  make steps: $((${#names[@]} - failed - skipped)) passed, $failed failed, $skipped skipped"
echo
if [[ -x .venv/bin/python ]]; then
    .venv/bin/python scripts/junit_summary.py tests/output/runs || true
fi
[[ $failed -eq 0 ]]
