#!/usr/bin/env bash
# The bundled Tiflux API v2 simulator, for trying the collection on this machine (docs/quickstart.md).
#
#   scripts/sim.sh start          (make sim) start it in the background (HTTPS, its own CA, on loopback),
#                                 give Ana Souza the licence "API por usuário", issue her a token and
#                                 vault it; print the api_url, the CA path and the vaulted token, and
#                                 write them to .sim/ (see below). Running again prints the same.
#   scripts/sim.sh token NAME     Ana generates another token in Sessões API: print it vaulted as NAME
#   scripts/sim.sh revoke FP      revoke the token with fingerprint FP (sha256:...), as Ana would by hand
#   scripts/sim.sh stop           (make sim-stop) stop it (.sim/ stays, with the vaulted tokens of the
#                                 stopped simulator, until the next make sim or make clean)
#
# .sim/env, for `source`: TIFLUX_SIM_API_URL, TIFLUX_SIM_CA_PATH, TIFLUX_SIM_VAULT (a vars file with
# vault_tiflux_token, vaulted), TIFLUX_SIM_VAULT_PASSWORD_FILE (its demo vault password), and
# `tiflux-sim` (this script) on PATH. Tokens are never printed: they go from the simulator's one-time
# answer straight into ansible-vault, with ANSIBLE_VAULT_PASSWORD_FILE when it is set, else the demo
# password. The simulator stops by itself after 12 hours.
set -euo pipefail

self=$(readlink -f "${BASH_SOURCE[0]}")
repo=$(cd "$(dirname "$self")/.." && pwd -P)
dir=${TIFLUX_SIM_HOME:-$repo/.sim}
info="$dir/sim.json"
python=${PYTHON:-python3}
simulator="$repo/tests/simulator/tiflux_sim.py"

die() { echo "sim: $*" >&2; exit 1; }

ctl() { "$python" "$simulator" ctl --info-file "$info" "$@"; }

field() {  # JSON on stdin -> one field
    "$python" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

running() {
    [[ -s "$info" ]] && kill -0 "$(field pid <"$info")" 2>/dev/null
}

vault_tool() {
    if command -v ansible-vault >/dev/null; then
        command -v ansible-vault
    elif [[ -x "$repo/.venv/bin/ansible-vault" ]]; then
        echo "$repo/.venv/bin/ansible-vault"
    else
        die "ansible-vault not found: install ansible-core first (python3 -m pip install --user 'ansible-core>=2.19') or run make .venv"
    fi
}

issue() {  # NAME [FPFILE]: a new token of Ana's, vaulted as NAME, on stdout; its fingerprint on stderr (or in FPFILE)
    local name=$1 fingerprint_file=${2:-/dev/stderr} password_file=${ANSIBLE_VAULT_PASSWORD_FILE:-$dir/vault-pass} vault
    vault=$(vault_tool)
    # ansible-vault reads the token on stdin; only the vaulted text and the fingerprint come out
    ctl issue-token --user-id "$(cat "$dir/user-id")" | "$python" -c '
import json, sys
answer = json.load(sys.stdin)
with open(sys.argv[1], "w") as out:
    out.write(answer["fingerprint"] + "\n")
sys.stdout.write(answer["token"])' "$fingerprint_file" |
        ANSIBLE_VAULT_PASSWORD_FILE=$password_file ANSIBLE_VAULT_IDENTITY_LIST="" \
            "$vault" encrypt_string --stdin-name "$name" 2>"$dir/vault.log" || { cat "$dir/vault.log" >&2; die "ansible-vault failed"; }
}

show() {
    local api_url ca_path
    api_url=$(field api_url <"$info")
    ca_path=$(field ca_path <"$info")
    cat <<EOF
Tiflux simulator (API v2, HTTPS with its own CA) on loopback, pid $(field pid <"$info"); stop it with: make sim-stop
  api_url:  $api_url
  ca_path:  $ca_path
  token:    $(cat "$dir/token-fingerprint") of Ana Souza <ana.souza@example.com>, vaulted as vault_tiflux_token
            in $dir/vault.yml (vault password: the demo one in $dir/vault-pass):
$(sed 's/^/            /' "$dir/vault.yml")
To use them: source $dir/env
  (sets TIFLUX_SIM_API_URL, TIFLUX_SIM_CA_PATH, TIFLUX_SIM_VAULT, TIFLUX_SIM_VAULT_PASSWORD_FILE; puts tiflux-sim on PATH)
EOF
}

start() {
    if running; then
        show
        return
    fi
    command -v openssl >/dev/null || die "openssl not found: the simulator makes its TLS certificates with it (apt-get install openssl, or make deps)"
    "$python" -c 'import sys; sys.exit(sys.version_info < (3, 9))' 2>/dev/null || die "needs python3 >= 3.9"
    vault_tool >/dev/null
    rm -rf "$dir"
    mkdir -p "$dir/bin"
    chmod 700 "$dir"
    # detached from this shell (and make): it keeps running until `make sim-stop` or 12 hours
    setsid timeout --signal=TERM 12h "$python" "$simulator" serve --tls --port 0 --state-dir "$dir/state" \
        --info-file "$info" </dev/null >"$dir/sim.log" 2>&1 &
    if ! ctl wait-ready --timeout 30 >/dev/null; then
        cat "$dir/sim.log" >&2
        die "the simulator did not start (log above, in $dir/sim.log)"
    fi
    ctl create-user --name "Ana Souza" --email ana.souza@example.com | field id >"$dir/user-id"
    (umask 077 && "$python" -c 'import secrets; print(secrets.token_urlsafe(24))' >"$dir/vault-pass")
    (umask 077 && ANSIBLE_VAULT_PASSWORD_FILE="$dir/vault-pass" issue vault_tiflux_token "$dir/token-fingerprint" >"$dir/vault.yml")
    ln -s "$self" "$dir/bin/tiflux-sim"
    cat >"$dir/env" <<EOF
# written by make sim (scripts/sim.sh): the bundled simulator's settings, for \`source\`
export TIFLUX_SIM_API_URL=$(field api_url <"$info")
export TIFLUX_SIM_CA_PATH=$(field ca_path <"$info")
export TIFLUX_SIM_VAULT=$dir/vault.yml
export TIFLUX_SIM_VAULT_PASSWORD_FILE=$dir/vault-pass
export TIFLUX_SIM_HOME=$dir
export PATH="$dir/bin:\$PATH"
EOF
    show
}

stop() {
    if running; then
        kill "$(field pid <"$info")"
        for _ in $(seq 50); do running || break; sleep 0.1; done
        echo "simulator stopped"
    else
        echo "no simulator running"
    fi
    rm -f "$info"
}

case "${1:-}" in
    start) start ;;
    token)
        [[ $# -eq 2 ]] || die "usage: tiflux-sim token VARIABLE_NAME"
        running || die "not running: make sim first"
        issue "$2" "$dir/last-fingerprint"
        echo "sim: Ana generated token $(cat "$dir/last-fingerprint") in Sessões API; vaulted as $2" >&2
        ;;
    revoke)
        [[ $# -eq 2 ]] || die "usage: tiflux-sim revoke sha256:FINGERPRINT"
        running || die "not running: make sim first"
        ctl revoke --fingerprint "$2" >/dev/null
        echo "revoked $2"
        ;;
    stop) stop ;;
    *) die "usage: $0 start | token NAME | revoke FINGERPRINT | stop" ;;
esac
