# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Real module runs racing on one file, and another user's traps, through ansible-playbook.

- 8 hosts (forks 8) push 8 different keys into one env file at once: every key is there at the end,
  or the hosts that lost say why (nothing is lost silently);
- a link another user planted in a sticky, world-writable directory is not followed.
"""

from __future__ import annotations

import json
import os
import uuid

import pytest

from accounts import CannotCreate, throwaway_account  # pylint: disable=import-error
from conftest import F  # pylint: disable=import-error

N = 8
PUSH = """
- hosts: racers
  gather_facts: false
  tasks:
    - tokenops.tiflux.token_push:
        path: "{{ shared_file }}"
        format: env
        key: "{{ race_key }}"
        token: "{{ race_token }}"
        backup: true
"""


def _inventory(root, hosts, **common):
    inventory = {"all": {"vars": common, "children": {"racers": {"hosts": hosts}}}}
    path = os.path.join(root, "inventory.json")
    with open(path, "w") as handle:
        json.dump(inventory, handle)
    return path


def _playbook(root, text):
    path = os.path.join(root, "push.yml")
    with open(path, "w") as handle:
        handle.write(text)
    return path


def test_parallel_pushes_of_different_keys_into_one_file_lose_nothing(tmp_path):
    root = str(tmp_path)
    shared = os.path.join(root, "conf", "shared.env")
    os.makedirs(os.path.dirname(shared))
    with open(shared, "w") as handle:
        handle.write("# one file, eight integrations\nAPP=1\n")
    tokens = dict(("r%d" % i, "raceToken%d-%s" % (i, uuid.uuid4().hex)) for i in range(N))
    hosts = dict((name, dict(ansible_connection="local", ansible_python_interpreter="{{ ansible_playbook_python }}",
                             race_key="KEY_%s" % name.upper(), race_token=token)) for name, token in tokens.items())
    inventory = _inventory(root, hosts, shared_file=shared)
    rc, _seconds, out = F.run_playbook(root, _playbook(root, PUSH), inventory, args=["--forks", str(N)],
                                       env=F.ansible_env(root))
    with open(shared) as handle:
        text = handle.read()
    lost = [name for name in tokens if "KEY_%s=%s\n" % (name.upper(), tokens[name]) not in text]
    for name in lost:
        # a host whose key is missing failed, and said why
        assert "%s" % name in out and ("another run" in out or "changed by someone else" in out), out[-3000:]
    assert rc == 0 or lost, out[-3000:]
    assert text.startswith("# one file, eight integrations\nAPP=1\n")
    assert len(lost) < N, out[-3000:]
    assert not [n for n in os.listdir(os.path.dirname(shared)) if "tiflux-tmp" in n]
    for token in tokens.values():
        assert token not in out


@pytest.fixture
def other_user():
    try:
        with throwaway_account() as entry:
            yield entry
    except CannotCreate as exc:
        pytest.skip(str(exc))


def test_a_planted_link_is_not_followed_by_a_real_run(tmp_path, other_user):
    root = str(tmp_path)
    sticky = os.path.join(root, "tmp")
    os.makedirs(sticky)
    os.chmod(sticky, 0o1777)
    loot = os.path.join(root, "loot")  # the attacker's file: whatever lands there, they read
    with open(loot, "w") as handle:
        handle.write("")
    os.chown(loot, other_user.pw_uid, other_user.pw_gid)
    link = os.path.join(sticky, "tiflux.env")
    os.symlink(loot, link)
    os.lchown(link, other_user.pw_uid, other_user.pw_gid)
    token = "plantedLinkToken-%s" % uuid.uuid4().hex
    hosts = {"h0": dict(ansible_connection="local", ansible_python_interpreter="{{ ansible_playbook_python }}",
                        race_key="TIFLUX_API_TOKEN", race_token=token)}
    inventory = _inventory(root, hosts, shared_file=link)
    rc, _seconds, out = F.run_playbook(root, _playbook(root, PUSH), inventory, env=F.ansible_env(root))
    assert rc != 0 and "owned by %s" % other_user.pw_name in out and "follow: true" in out, out[-3000:]
    with open(loot) as handle:
        assert handle.read() == ""
    assert sorted(os.listdir(sticky)) == ["tiflux.env"] and token not in out
