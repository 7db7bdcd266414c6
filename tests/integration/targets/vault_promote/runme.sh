#!/usr/bin/env bash
# vault_promote with the real ansible-vault and ansible-playbook (see test_vault_promote.py).
set -eu
cd "$(dirname "$0")"
exec "${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}" -m pytest -p no:cacheprovider -q -rs test_vault_promote.py test_awx_credential_update.py "$@"
