#!/usr/bin/env bash
# Run a target's playbook at -vvvv --diff, keep its whole output, then scan the output and
# every file the run left (reports, backups, temp dirs) for the tokens the run issued.
#
#   run_scanned.sh PLAYBOOK [ansible-playbook args...]
#
# The playbook writes each token it issues, one per line, to the file named by the
# extra var tiflux_secrets_file (mode 0600, outside the scanned paths), and keeps the
# configs that legitimately hold tokens under the extra var hosts_dir. Scanned: the
# output, the target's output_dir (OUTPUT_DIR under ansible-test) and ANSIBLE_LOCAL_TEMP;
# in hosts_dir only file names (backups, temp files).
set -eu

playbook=$1
shift
utils=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/tiflux-scan.XXXXXX")
trap 'rm -rf "$work"' EXIT
secrets="$work/secrets"
log="$work/ansible.log"
output_dir=${OUTPUT_DIR:-$work/output}
hosts_dir="$work/hosts"
mkdir -p "$output_dir" "$work/local_tmp" "$hosts_dir"

export ANSIBLE_ROLES_PATH=${ANSIBLE_ROLES_PATH:-$(cd "$(dirname "$playbook")/.." && pwd)}
export ANSIBLE_LOCAL_TEMP="$work/local_tmp"
export ANSIBLE_KEEP_REMOTE_FILES=${ANSIBLE_KEEP_REMOTE_FILES:-0}
export ANSIBLE_NOCOLOR=1

set +e
ansible-playbook "$playbook" -vvvv --diff -e "tiflux_secrets_file=$secrets" -e "output_dir=$output_dir" -e "hosts_dir=$hosts_dir" "$@" >"$log" 2>&1
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
    echo "ansible-playbook $playbook failed (rc=$rc); last 150 lines of its -vvvv output:"
    tail -n 150 "$log"
fi
grep -E '^(PLAY RECAP|[a-z0-9_.-]+ +: ok=)' "$log" || true

if [ ! -s "$secrets" ]; then
    echo "leak scan: the playbook wrote no tokens to $secrets" >&2
    exit 1
fi
"${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}" "$utils/leak_scan.py" --secrets-file "$secrets" --names-only "$hosts_dir" "$log" "$output_dir" "$ANSIBLE_LOCAL_TEMP"
exit "$rc"
