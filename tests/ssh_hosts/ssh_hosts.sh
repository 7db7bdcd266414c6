#!/usr/bin/env bash
# Real SSH hosts on loopback, for molecule scenarios and manual tests.
#
#   ssh_hosts.sh up N DIR [options]   start N hosts (idempotent: a second `up` restarts them)
#   ssh_hosts.sh down DIR             stop them, remove their users and DIR (idempotent)
#   ssh_hosts.sh status DIR           one line per host: name, address, port, sshd pid or "stopped"
#   ssh_hosts.sh stop-host DIR NAME   stop one host's sshd (an unreachable host), keep its user
#
# Host i (1..N) is an sshd listening on 127.0.0.(FIRST+i-1):PORT with its own config, host key and
# pid file under DIR, and one local user PREFIXi (useradd -m, password '*' so that key auth works
# with UsePAM no) whose ~/.ssh/authorized_keys holds DIR/id_ed25519.pub. Writes DIR/inventory.yml:
# group GROUP with one host per user (ansible_host, ansible_port, ansible_user,
# ansible_ssh_private_key_file, ansible_ssh_common_args, ansible_python_interpreter, and
# ssh_hosts_home: the user's home directory).
#
# Options of `up`:
#   --port P           port of every host (default 2222: a system sshd on *:22 would block 127.0.0.x:22)
#   --first-address F  last octet of host 1's address (default 2: 127.0.0.2, 127.0.0.3, ...)
#   --prefix P         user and inventory host name prefix (default tiflux-h: tiflux-h1, tiflux-h2, ...)
#   --group G          inventory group (default ssh_hosts)
#   --python PATH      interpreter on the hosts (default /usr/bin/python3 if present, else python3 on PATH
#                      outside pyenv shims)
#
# Needs root and the Debian package openssh-server (sshd, ssh-keygen); installs nothing itself.
# Users are created with the GECOS marker below and `down` deletes only users that carry it.
set -euo pipefail

MARKER="tokenops ssh_hosts test host"
SSHD=${SSHD:-/usr/sbin/sshd}

die() {
    echo "ssh_hosts.sh: $*" >&2
    exit 1
}

usage() {
    sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# pids of every descendant of a process (Linux /proc; no procps needed)
descendants() {
    local root=$1 file line fields pid
    local -A parent=()
    for file in /proc/[0-9]*/stat; do
        read -r line <"$file" 2>/dev/null || continue
        read -r -a fields <<<"${line##*) }"
        pid=${file#/proc/}
        parent[${pid%/stat}]=${fields[1]}
    done
    local -a queue=("$root")
    while [[ ${#queue[@]} -gt 0 ]]; do
        local current=${queue[0]}
        queue=("${queue[@]:1}")
        for pid in "${!parent[@]}"; do
            if [[ "${parent[$pid]}" == "$current" ]]; then
                echo "$pid"
                queue+=("$pid")
            fi
        done
    done
}

# does process $1 exist (a zombie, never reaped where pid 1 does not reap, counts as gone)?
alive() {
    local stat fields
    [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null || return 1
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    read -r -a fields <<<"${stat##*) }"
    [[ "${fields[0]}" != Z ]]
}

# is pid $1 an sshd started with config file $2?
is_our_sshd() {
    local cmdline
    cmdline=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
    [[ "$cmdline" == *sshd* && "$cmdline" == *"$2"* ]]
}

# stop the sshd of one host (by its pid file) and every process of its sessions
stop_sshd() {
    local dir=$1 name=$2 pid_file pid pids conf i
    pid_file="$dir/run/$name.pid"
    conf="$dir/sshd/$name.conf"
    [[ -f "$pid_file" ]] || return 0
    pid=$(cat "$pid_file" 2>/dev/null || true)
    if alive "$pid" && is_our_sshd "$pid" "$conf"; then
        mapfile -t pids < <(descendants "$pid")
        kill -TERM "$pid" "${pids[@]}" 2>/dev/null || true
        for i in $(seq 1 50); do
            alive "$pid" || break
            sleep 0.1
        done
        if alive "$pid"; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$pid_file"
}

# pids of the processes of a uid (Linux /proc), zombies excluded
user_pids() {
    local uid=$1 file pid
    for file in /proc/[0-9]*/status; do
        pid=${file#/proc/}
        pid=${pid%/status}
        if [[ "$(awk '$1 == "Uid:" {print $2}' "$file" 2>/dev/null)" == "$uid" ]] && alive "$pid"; then
            echo "$pid"
        fi
    done
}

# stop every process left to a test user (sessions whose sshd parent is gone), by pid
stop_user_processes() {
    local uid i
    uid=$(id -u "$1" 2>/dev/null) || return 0
    local -a pids=()
    for i in $(seq 1 20); do
        mapfile -t pids < <(user_pids "$uid")
        [[ ${#pids[@]} -eq 0 ]] && return 0
        if [[ $i -lt 15 ]]; then
            kill -TERM "${pids[@]}" 2>/dev/null || true
        else
            kill -KILL "${pids[@]}" 2>/dev/null || true
        fi
        sleep 0.1
    done
}

is_test_user() {
    local gecos
    gecos=$(getent passwd "$1" | cut -d: -f5) || return 1
    [[ "$gecos" == "$MARKER" ]]
}

remove_user() {
    local user=$1
    getent passwd "$user" >/dev/null || return 0
    if ! is_test_user "$user"; then
        echo "ssh_hosts.sh: not removing user $user: it was not created by ssh_hosts.sh" >&2
        return 0
    fi
    stop_user_processes "$user"
    userdel -r "$user" 2>/dev/null || userdel -f -r "$user" 2>/dev/null || userdel "$user" || true
}

wait_listening() {
    local address=$1 port=$2 i
    for i in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/$address/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.05
    done
    return 1
}

pick_python() {
    local candidate
    for candidate in /usr/bin/python3 /usr/local/bin/python3; do
        if [[ -x "$candidate" ]] && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 8))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

# hosts.tsv: name, address, port, user; one line per host
read_hosts() {
    [[ -f "$1/hosts.tsv" ]] && cat "$1/hosts.tsv"
}

cmd_up() {
    [[ $# -ge 2 ]] || usage
    local count=$1 dir=$2
    shift 2
    local port=2222 first=2 prefix=tiflux-h group=ssh_hosts python=""
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --port) port=$2; shift 2 ;;
            --first-address) first=$2; shift 2 ;;
            --prefix) prefix=$2; shift 2 ;;
            --group) group=$2; shift 2 ;;
            --python) python=$2; shift 2 ;;
            *) usage ;;
        esac
    done
    [[ "$count" =~ ^[0-9]+$ && "$count" -ge 1 ]] || die "N must be a positive number, not '$count'"
    [[ $((first + count - 1)) -le 254 ]] || die "too many hosts for 127.0.0.$first and up"
    [[ $(id -u) -eq 0 ]] || die "must run as root (it creates users and starts sshd)"
    [[ -x "$SSHD" ]] || die "$SSHD not found: apt-get install openssh-server"
    command -v ssh-keygen >/dev/null || die "ssh-keygen not found: apt-get install openssh-client"
    if [[ -z "$python" ]]; then
        python=$(pick_python) || die "no python3 >= 3.8 in /usr/bin or /usr/local/bin for the hosts; pass --python"
    fi
    [[ -x "$python" ]] || die "--python $python is not executable"

    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd -P)
    mkdir -p "$dir/sshd" "$dir/run" "$dir/logs" "$dir/host_keys"
    chmod 700 "$dir"
    mkdir -p /run/sshd
    chmod 755 /run/sshd

    # hosts of an earlier `up` with a larger N
    local name address old_port user
    if [[ -f "$dir/hosts.tsv" ]]; then
        while IFS=$'\t' read -r name address old_port user; do
            stop_sshd "$dir" "$name"
        done <"$dir/hosts.tsv"
    fi

    if [[ ! -f "$dir/id_ed25519" ]]; then
        ssh-keygen -q -t ed25519 -N '' -C "ssh_hosts client key" -f "$dir/id_ed25519"
    fi
    local pubkey
    pubkey=$(cat "$dir/id_ed25519.pub")

    local inventory="$dir/inventory.yml.tmp" hosts_tsv="$dir/hosts.tsv.tmp" i
    # keep every host ever created in hosts.tsv so that `down` removes them all
    : >"$hosts_tsv"
    {
        echo "# Written by tests/ssh_hosts/ssh_hosts.sh up $count $dir"
        echo "$group:"
        echo "  hosts:"
    } >"$inventory"
    for i in $(seq 1 "$count"); do
        name="$prefix$i"
        user=$name
        address="127.0.0.$((first + i - 1))"

        if ! getent passwd "$user" >/dev/null; then
            useradd -m -s /bin/bash -c "$MARKER" "$user"
        elif ! is_test_user "$user"; then
            die "user $user exists and was not created by ssh_hosts.sh; pick another --prefix"
        fi
        # '*': no password, not locked (a locked account is refused without PAM)
        usermod -p '*' "$user"
        local home
        home=$(getent passwd "$user" | cut -d: -f6)
        install -d -m 700 -o "$user" -g "$(id -gn "$user")" "$home/.ssh"
        printf '%s\n' "$pubkey" >"$home/.ssh/authorized_keys"
        chown "$user:$(id -gn "$user")" "$home/.ssh/authorized_keys"
        chmod 600 "$home/.ssh/authorized_keys"

        if [[ ! -f "$dir/host_keys/$name" ]]; then
            ssh-keygen -q -t ed25519 -N '' -C "$name host key" -f "$dir/host_keys/$name"
        fi
        cat >"$dir/sshd/$name.conf" <<EOF
# $name: written by tests/ssh_hosts/ssh_hosts.sh
Port $port
ListenAddress $address
HostKey $dir/host_keys/$name
PidFile $dir/run/$name.pid
UsePAM no
PermitRootLogin no
AllowUsers $user
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UseDNS no
X11Forwarding no
PrintMotd no
MaxStartups 100:30:200
MaxSessions 100
LogLevel INFO
Subsystem sftp internal-sftp
EOF
        "$SSHD" -t -f "$dir/sshd/$name.conf"
        "$SSHD" -f "$dir/sshd/$name.conf" -E "$dir/logs/$name.log"
        wait_listening "$address" "$port" || die "sshd of $name did not listen on $address:$port (see $dir/logs/$name.log)"
        printf '%s\t%s\t%s\t%s\n' "$name" "$address" "$port" "$user" >>"$hosts_tsv"
        cat >>"$inventory" <<EOF
    $name:
      ansible_host: $address
      ansible_port: $port
      ansible_user: $user
      ansible_ssh_private_key_file: $dir/id_ed25519
      ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o LogLevel=ERROR
      ansible_python_interpreter: $python
      ssh_hosts_home: $home
EOF
    done
    # earlier hosts beyond N: stopped above, kept in the list for `down`
    if [[ -f "$dir/hosts.tsv" ]]; then
        while IFS=$'\t' read -r name address old_port user; do
            grep -q "^$name	" "$hosts_tsv" || printf '%s\t%s\t%s\t%s\n' "$name" "$address" "$old_port" "$user" >>"$hosts_tsv"
        done <"$dir/hosts.tsv"
    fi
    mv "$hosts_tsv" "$dir/hosts.tsv"
    mv "$inventory" "$dir/inventory.yml"
    echo "ssh_hosts: $count host(s) up on 127.0.0.$first.. port $port; inventory $dir/inventory.yml"
}

cmd_down() {
    [[ $# -eq 1 ]] || usage
    local dir=$1 name address port user
    [[ -d "$dir" ]] || return 0
    [[ $(id -u) -eq 0 ]] || die "must run as root"
    if [[ -f "$dir/hosts.tsv" ]]; then
        while IFS=$'\t' read -r name address port user; do
            stop_sshd "$dir" "$name"
            remove_user "$user"
        done <"$dir/hosts.tsv"
    fi
    rm -rf "$dir"
    echo "ssh_hosts: down"
}

cmd_status() {
    [[ $# -eq 1 ]] || usage
    local dir=$1 name address port user pid state
    read_hosts "$dir" | while IFS=$'\t' read -r name address port user; do
        pid=$(cat "$dir/run/$name.pid" 2>/dev/null || true)
        if alive "$pid" && is_our_sshd "$pid" "$dir/sshd/$name.conf"; then
            state="sshd $pid"
        else
            state=stopped
        fi
        printf '%s\t%s\t%s\t%s\n' "$name" "$address" "$port" "$state"
    done
}

cmd_stop_host() {
    [[ $# -eq 2 ]] || usage
    local dir=$1 wanted=$2 name address port user
    grep -q "^$wanted	" "$dir/hosts.tsv" 2>/dev/null || die "no host $wanted in $dir/hosts.tsv"
    stop_sshd "$dir" "$wanted"
    while IFS=$'\t' read -r name address port user; do
        [[ "$name" == "$wanted" ]] && stop_user_processes "$user"
    done <"$dir/hosts.tsv"
    echo "ssh_hosts: $wanted stopped"
}

[[ $# -ge 1 ]] || usage
command=$1
shift
case "$command" in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status "$@" ;;
    stop-host) cmd_stop_host "$@" ;;
    *) usage ;;
esac
