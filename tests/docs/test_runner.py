# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The block convention of the documents tests/docs runs (runner.py), and the documents' use of it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.join(os.path.dirname(os.path.dirname(HERE)), "docs")
sys.path.insert(0, HERE)

import runner  # noqa: E402  pylint: disable=wrong-import-position

SAMPLE = '''# A doc

```sh
mkdir -p work && cd work
export GREETING=hello
```

```yaml title=conf/app.yml
greeting: "$GREETING stays literal"
```

```sh real-tiflux
curl https://api.tiflux.com/api/v2/users/me
```

```console
$ echo illustration
```

```yaml
# no title: an illustration
```

````sh
cat conf/app.yml
echo "$GREETING"
````
'''


def run(tmp_path, text, name="doc.md"):
    (tmp_path / name).write_text(text)
    script, _run = runner.script(str(tmp_path / name))
    done = subprocess.run(["bash", "-c", "set -euo pipefail\n" + script], cwd=str(tmp_path), capture_output=True,
                          text=True, check=False)
    return done


def test_what_runs_and_what_does_not():
    kinds = [(block.language, block.runs()) for block in runner.blocks(SAMPLE)]
    assert kinds == [("sh", "sh"), ("yaml", "file"), ("sh", None), ("console", None), ("yaml", None), ("sh", "sh")]


def test_directory_variables_and_files_carry_over(tmp_path):
    done = run(tmp_path, SAMPLE)
    assert done.returncode == 0, done.stderr
    assert done.stdout == 'greeting: "$GREETING stays literal"\nhello\n'
    assert (tmp_path / "work" / "conf" / "app.yml").is_file()


def test_a_failing_block_fails_the_document(tmp_path):
    done = run(tmp_path, "```sh\nfalse\necho not reached\n```\n")
    assert done.returncode != 0 and "not reached" not in done.stdout


def test_a_document_can_continue_another(tmp_path):
    (tmp_path / "first.md").write_text("```sh\nexport FROM_FIRST=yes\n```\n")
    done = run(tmp_path, "<!-- tests/docs: after first.md -->\n```sh\necho $FROM_FIRST\n```\n")
    assert done.stdout == "yes\n"


@pytest.mark.parametrize("doc", sorted(name for name in os.listdir(DOCS) if name.startswith(("quickstart", "rotation"))))
def test_every_real_tiflux_block_sits_beside_its_local_equivalent(doc):
    with open(os.path.join(DOCS, doc), encoding="utf-8") as handle:
        found = runner.blocks(handle.read())
    for index, block in enumerate(found):
        if block.real_tiflux:
            around = found[index - 1:index] + found[index + 1:index + 2]
            assert any(other.runs() for other in around), \
                "%s:%d: a real-tiflux block with no runnable block next to it" % (doc, block.line)
