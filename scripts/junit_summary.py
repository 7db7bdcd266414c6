"""Count the test cases in the JUnit XML files under a directory.

    python scripts/junit_summary.py tests/output/runs

Prints one line per run (the first directory level below the given one: for
example ansible-2.19.14-py3.11-units, written by scripts/ansible-test.sh) and a
closing line ``tests: N passed, N failed, N skipped``. Integration runs count
Ansible tasks (ansible-test's junit callback), sanity runs count sanity tests,
the others count pytest tests. Integration task counts stay out of the closing
line: the junit callback records the failures a target provokes and rescues on
purpose (a revoked token in a block/rescue) as errors; the target's own exit
status, in the step table, is what says whether it passed.
"""

from __future__ import annotations

import pathlib
import sys
import xml.etree.ElementTree as ET


def count(path: pathlib.Path) -> tuple[int, int, int]:
    """Return (passed, failed, skipped) for the test cases of one JUnit file."""
    passed = failed = skipped = 0
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as ex:
        print('  unreadable JUnit file %s: %s' % (path, ex), file=sys.stderr)
        return 0, 1, 0
    for case in root.iter('testcase'):
        tags = {child.tag for child in case}
        if tags & {'failure', 'error'}:
            failed += 1
        elif 'skipped' in tags:
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def main() -> int:
    """Print the summary; exit 0 always (the steps' exit codes decide)."""
    base = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else 'tests/output/runs')
    runs: dict[str, list[int]] = {}
    for path in sorted(base.glob('**/*.xml')):
        if 'junit' not in path.parts and not path.parent.name == 'junit':
            continue
        run = path.relative_to(base).parts[0]
        totals = runs.setdefault(run, [0, 0, 0])
        for i, value in enumerate(count(path)):
            totals[i] += value

    print('JUnit test cases (%s):' % base)
    grand = [0, 0, 0]
    for run, (passed, failed, skipped) in sorted(runs.items()):
        if run.endswith('-integration'):
            print('  %-40s %5d tasks ok, %d errors (rescued on purpose; the step table says if the target passed), %d skipped'
                  % (run, passed, failed, skipped))
            continue
        print('  %-40s %5d passed, %d failed, %d skipped (tests)' % (run, passed, failed, skipped))
        grand = [grand[0] + passed, grand[1] + failed, grand[2] + skipped]
    if not runs:
        print('  none found')
    print('tests: %d passed, %d failed, %d skipped' % tuple(grand))
    return 0


if __name__ == '__main__':
    sys.exit(main())
