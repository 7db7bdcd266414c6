"""Stand-in for ansible-test's pip bootstrap script (get-pip.py).

ansible-test bootstraps pip into the empty virtual environments it creates for
sanity tests by running a get-pip.py script that it downloads from a host this
machine cannot reach, unless a copy is cached at
~/.ansible/test/cache/get_pip_<version>.py.  scripts/ansible-test.sh copies this
file there.  It is run (via runpy, as __main__) with the arguments ansible-test
gives get-pip.py, e.g. ``--disable-pip-version-check pip==24.2 --no-setuptools
--no-wheel``: it installs the bundled pip with ensurepip, then installs the
requested pip version from the package index.
"""

from __future__ import annotations

import subprocess
import sys

# options of get-pip.py that pip itself does not know
GET_PIP_ONLY_OPTIONS = ('--no-setuptools', '--no-wheel')

MARKER = 'tokenops.tiflux offline get-pip stand-in'


def main() -> int:
    """Install pip into the running interpreter, then the requested pip version."""
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]

    try:
        import ensurepip  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
    except ImportError:
        print('%s: this Python has no ensurepip module; install it (e.g. python3-venv) or '
              'place the real get-pip.py at the cache path' % MARKER, file=sys.stderr)
        return 1

    subprocess.check_call([sys.executable, '-m', 'ensurepip', '--default-pip'], stdout=subprocess.DEVNULL)
    subprocess.check_call([sys.executable, '-m', 'pip', 'install', '--quiet'] + args)

    return 0


if __name__ == '__main__':
    sys.exit(main())
