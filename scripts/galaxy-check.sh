#!/usr/bin/env bash
# make galaxy-check: build the collection tarball and import it with galaxy-importer, the importer
# galaxy.ansible.com runs on every upload (ansible-doc of every plugin, ansible-lint of the roles and
# playbooks, README and changelog checks). Passes only with 0 errors and 0 warnings.
#
# The importer runs as on Galaxy: from its own venv (VENV_GALAXY), with a fresh HOME, so nothing
# installed on this machine (~/.ansible/collections) can stand in for what the tarball lacks.
# Writes tests/output/runs/galaxy/junit/galaxy.xml (one test case) and the importer's log next to it.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$repo"
venv=$(cd "${VENV:-.venv}" && pwd -P)
venv_galaxy=$(cd "${VENV_GALAXY:-.venv-galaxy}" && pwd -P)
out="$repo/tests/output/runs/galaxy"
work=$(mktemp -d "${TMPDIR:-/tmp}/tiflux-galaxy.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$out/junit" "$work/home" "$work/tmp"
started=$SECONDS

"$venv/bin/ansible-galaxy" collection build --force --output-path "$work" . >/dev/null
tarball=$(echo "$work"/tokenops-tiflux-*.tar.gz)
version=$("$venv_galaxy/bin/python" -c 'from importlib.metadata import version; print(version("galaxy-importer"))')
echo "galaxy-importer $version: importing $(basename "$tarball") ..."

log="$out/galaxy-importer.log"
set +e
(cd "$work" && env -i PATH="$venv_galaxy/bin:/usr/bin:/bin" HOME="$work/home" TMPDIR="$work/tmp" LANG=C.UTF-8 \
    "$venv_galaxy/bin/python" -m galaxy_importer.main "$tarball") >"$log" 2>&1
status=$?
set -e

errors=$(grep -c '^ERROR' "$log" || true)
warnings=$(grep -c '^WARNING' "$log" || true)
grep -E '^(ERROR|WARNING)' "$log" || true
completed=$(grep -c '^Importer processing completed successfully' "$log" || true)
if [[ $status -ne 0 || $completed -ne 1 ]]; then
    errors=$((errors > 0 ? errors : 1))
    tail -20 "$log"
fi

seconds=$((SECONDS - started))
failure=""
if [[ $errors -ne 0 || $warnings -ne 0 ]]; then
    failure="<failure message=\"$errors error(s), $warnings warning(s): see galaxy-importer.log\"/>"
fi
cat >"$out/junit/galaxy.xml" <<XML
<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="galaxy-check" tests="1" failures="$([[ -n "$failure" ]] && echo 1 || echo 0)" time="$seconds">
<testcase classname="galaxy-importer" name="import $(basename "$tarball")" time="$seconds">$failure</testcase>
</testsuite></testsuites>
XML
echo "galaxy-check: $errors error(s), $warnings warning(s) ($(basename "$tarball"), ${seconds}s; log: ${log#"$repo"/})"
[[ -z "$failure" ]]
