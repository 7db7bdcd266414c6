#!/usr/bin/env bash
# make demo: the whole story on the bundled Tiflux simulator, on this machine.
#   1. build and install the collection; start the simulator (HTTPS, its own CA)
#   2. a person generates token A in Sessões API (simulated), vaults it, pushes it everywhere
#   3. token B is generated; the rotation deploys it, proves it from every host, says when A is safe to revoke
#   4. confirm fails while A still works; A is revoked by hand (simulated); confirm passes; A now gets 401
# No token is ever printed: they go from the simulator straight into ansible-vault.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
venv=${VENV:-$repo/.venv}
work="$here/work"
export PATH="$venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$work/collections"
export ANSIBLE_NOCOLOR=${ANSIBLE_NOCOLOR:-}
export ANSIBLE_RETRY_FILES_ENABLED=0
export ANSIBLE_LOCALHOST_WARNING=0
export ANSIBLE_INVENTORY_UNPARSED_WARNING=0

step_started=
# one header line per step; the previous step's duration when the next one starts
step() {
    [[ -z "$step_started" ]] || printf '    (%ss)\n' "$((SECONDS - step_started))"
    step_started=$SECONDS
    printf '\n\033[1m==> %s\033[0m\n' "$*"
}
sim() { python "$repo/tests/simulator/tiflux_sim.py" ctl --info-file "$work/sim.json" "$@"; }
vault_string() {  # NAME: reads the token on stdin, appends the vaulted variable to stdout
    ansible-vault encrypt_string --vault-password-file "$work/vault-pass" --stdin-name "$1" 2>/dev/null
}
play() { ansible-playbook -i "$here/inventory.yml" --vault-password-file "$work/vault-pass" "$@"; }
issue_token() {  # NAME IDFILE: Ana generates a token; it is vaulted as NAME, only its id is kept in IDFILE
    sim issue-token --user-id "$user_id" | python -c '
import json, sys
answer = json.load(sys.stdin)
open(sys.argv[1], "w").write(str(answer["id"]))
sys.stdout.write(answer["token"])' "$2" | vault_string "$1"
}

rm -rf "$work"
mkdir -p "$work/collections" "$work/reports"
chmod 700 "$work"

step "Build the collection and install it (as a user would from Galaxy or a tarball)"
ansible-galaxy collection build "$repo" --output-path "$work" --force >/dev/null
ansible-galaxy collection install "$work"/tokenops-tiflux-*.tar.gz -p "$work/collections" --force | tail -1

step "Start the Tiflux API v2 simulator (HTTPS with its own CA, on loopback)"
python "$repo/tests/simulator/tiflux_sim.py" serve --port 0 --tls --state-dir "$work/sim" --info-file "$work/sim.json" \
    >"$work/sim.log" 2>&1 &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null || true' EXIT
sim wait-ready >/dev/null
python -c 'import json,sys; print(json.load(open(sys.argv[1]))["api_url"], end="")' "$work/sim.json" >"$work/api_url"
echo "simulator at $(cat "$work/api_url")"

step "An admin gives Ana the licence \"API por usuário\"; Ana generates token A in Sessões API"
user_id=$(sim create-user --name "Ana Souza" --email ana.souza@example.com | python -c 'import json,sys; print(json.load(sys.stdin)["id"])')
printf 'demo-only-vault-password\n' >"$work/vault-pass"
chmod 600 "$work/vault-pass"
# The token goes from the simulator's one-time answer straight into ansible-vault.
issue_token vault_tiflux_token "$work/token-a.id" >"$work/vault-a.yml"
echo "vaulted as vault_tiflux_token in demo/work/vault-a.yml:"
head -3 "$work/vault-a.yml"

step "Check token A from the controller, push it into every config, check it from each host"
play "$here/first-push.yml" -e @"$work/vault-a.yml"

step "Months later: Ana generates token B; the rotation deploys B and proves it (canary first)"
issue_token rotate_new_token "$work/token-b.id" >"$work/vault-rotation.yml"
# the old token is the one already vaulted as vault_tiflux_token
{
    echo "rotate_old_token: \"{{ vault_tiflux_token }}\""
    echo "rotate_old_token_created: \"$(date -u +%d/%m/%Y) (token A)\""
} >>"$work/vault-rotation.yml"
play "$repo/playbooks/rotate.yml" -e @"$work/vault-a.yml" -e @"$work/vault-rotation.yml" -e rotate_report_dir="$work/reports"

step "Run it again: nothing changes, nothing reloads"
play "$repo/playbooks/rotate.yml" -e @"$work/vault-a.yml" -e @"$work/vault-rotation.yml" | grep -E 'VERDICT|: ok=' || true

step "Confirm before revoking token A: it must fail and say how to revoke it by hand"
if play "$repo/playbooks/confirm.yml" -e @"$work/vault-a.yml" -e @"$work/vault-rotation.yml" >"$work/confirm-early.log" 2>&1; then
    echo "confirm passed although token A still works: that is a bug" >&2
    exit 1
fi
grep -m1 -o 'VERDICT: rotation NOT complete[^"]*' "$work/confirm-early.log"

step "Ana revokes token A by hand in Configurações > Minha conta > Sessões > Sessões API (simulated)"
sim revoke --token-id "$(cat "$work/token-a.id")" >/dev/null
echo "token A revoked"

step "Confirm: every host uses token B, token A gets 401"
play "$repo/playbooks/confirm.yml" -e @"$work/vault-a.yml" -e @"$work/vault-rotation.yml" -e rotate_report_dir="$work/reports"

step "What Tiflux now answers to token A, and the remedy"
play "$here/show-401.yml" -e @"$work/vault-a.yml" -e @"$work/vault-rotation.yml"

step "Done. Reports: $work/reports/ (rotate-deploy.md, rotate-confirm.md); configs: $work/hosts/"
