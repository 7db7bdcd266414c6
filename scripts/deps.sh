#!/usr/bin/env bash
# Install the Debian/Ubuntu packages that the make steps need, and only those missing.
#
#   scripts/deps.sh            every package of `make test` and `make demo` (what `make deps` runs)
#   scripts/deps.sh STEP...    the packages of these steps only (e.g. `scripts/deps.sh sim`)
#   DEPS_DRY_RUN=1 scripts/deps.sh   say what would be installed, install nothing
#
# Each package is looked up with dpkg-query; apt-get runs (once: update, then install) only
# when one is missing, as root or through sudo. Nothing missing: nothing runs, one line says so.
# Where it cannot install (not Debian, not root and no sudo), it names what is missing and how
# to install it, and fails.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)

# package -> the steps that need it, and why (shown when it is missing)
declare -A why=(
    [ca-certificates]="venvs: pip downloads over HTTPS"
    [git]="sanity, units, integration, lint, docs, galaxy-check: the test tree is built from git ls-files"
    [make]="every step: the entry point"
    [openssl]="simulator, integration, docs, awx, molecule, test-faults, demo, sim: the simulator's TLS certificates"
    [shellcheck]="sanity: the shellcheck test"
    [openssh-server]="molecule: real SSH hosts on loopback (sshd)"
    [python3-venv]="venvs: python3 -m venv needs ensurepip"
)
declare -A step_packages=(
    [venv]="ca-certificates python3-venv"
    [sanity]="git shellcheck"
    [units]="git"
    [simulator]="openssl"
    [integration]="git openssl"
    [docs]="git make openssl"
    [awx]="git openssl"
    [molecule]="git openssl openssh-server"
    [test-faults]="openssl"
    [lint]="git"
    [galaxy-check]="git"
    [demo]="openssl"
    [sim]="openssl"
    [make]="make"
)

steps=("$@")
if [[ ${#steps[@]} -eq 0 ]]; then
    steps=(venv sanity units simulator integration docs awx molecule test-faults lint galaxy-check demo)
fi

wanted=()
for step in "${steps[@]}"; do
    if [[ -z "${step_packages[$step]+set}" ]]; then
        echo "deps: unknown step '$step' (known: ${!step_packages[*]})" >&2
        exit 2
    fi
    for package in ${step_packages[$step]}; do
        # python3-venv only where the Python the venvs are built with lacks ensurepip
        if [[ "$package" == python3-venv ]]; then
            python=${PYTHON:-$("$repo/scripts/find-python.sh" 3.11 || command -v python3 || echo python3)}
            if "$python" -c 'import venv, ensurepip' 2>/dev/null; then
                continue
            fi
        fi
        [[ " ${wanted[*]-} " == *" $package "* ]] || wanted+=("$package")
    done
done

if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
    # not Debian: check for the programs themselves
    declare -A probe=([ca-certificates]=true [git]="command -v git" [make]="command -v make" [openssl]="command -v openssl"
                      [shellcheck]="command -v shellcheck" [openssh-server]="test -x /usr/sbin/sshd"
                      [python3-venv]=false)
    missing=()
    for package in "${wanted[@]}"; do
        eval "${probe[$package]}" >/dev/null 2>&1 || missing+=("$package")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        echo "deps: all present (${wanted[*]})"
        exit 0
    fi
    echo "deps: missing ${missing[*]}; this is no Debian/Ubuntu machine (no dpkg-query/apt-get): install them with its package manager" >&2
    for package in "${missing[@]}"; do echo "  $package: ${why[$package]}" >&2; done
    exit 1
fi

missing=()
for package in "${wanted[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$package")
    fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
    echo "deps: all present (${wanted[*]})"
    exit 0
fi

for package in "${missing[@]}"; do echo "deps: missing $package (${why[$package]})"; done
if [[ -n "${DEPS_DRY_RUN:-}" ]]; then
    echo "deps: would run: apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
    exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
    if ! command -v sudo >/dev/null; then
        echo "deps: not root and no sudo: as root, run apt-get install ${missing[*]}" >&2
        exit 1
    fi
    sudo=(sudo)
fi
started=$SECONDS
echo "deps: installing ${missing[*]} (apt-get, as root${sudo:+ through sudo}) ..."
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo[@]}" apt-get update -qq || ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    echo "deps: apt-get failed: install ${missing[*]} by hand (apt-get install ${missing[*]})" >&2
    exit 1
fi
echo "deps: installed ${missing[*]} ($((SECONDS - started))s)"
