"""Start tests/simulator/tiflux_sim.py detached, for one ansible-playbook run.

    python tiflux_sim_launcher.py --simulator PATH --run-dir DIR [options] [-- serve options]
    python tiflux_sim_launcher.py --run-dir DIR --stop

Runs ``tiflux_sim.py serve --info-file RUN_DIR/info.json [serve options]`` in a
detached watchdog process and returns once the simulator has written its info
file, printing a JSON line with its url, api_url, ca_path, pid and the run
files (not the admin key: the info file is 0600 and holds it).

The watchdog stops the simulator (SIGTERM) when:
- the ansible-playbook process that started it exits (found among the
  launcher's ancestors; an integration target run is one ansible-playbook run),
- --max-lifetime seconds have passed (a backstop),
- it gets SIGTERM / SIGINT itself (RUN_DIR/tiflux_sim_launcher.pid holds its pid).

A launcher still running from an earlier start in the same RUN_DIR is stopped
first, so each start gives a fresh simulator.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time

PID_FILE = 'tiflux_sim_launcher.pid'
INFO_FILE = 'info.json'
LOG_FILE = 'simulator.log'
POLL_SECONDS = 0.25


def read_cmdline(pid: int) -> list[str]:
    """Return the command line of a process (Linux /proc), or an empty list."""
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            return [part.decode('utf-8', 'replace') for part in handle.read().split(b'\0') if part]
    except OSError:
        return []


def parent_of(pid: int) -> int:
    """Return the parent pid of a process (Linux /proc), or 0."""
    try:
        with open('/proc/%d/stat' % pid, 'rb') as handle:
            stat = handle.read().decode('utf-8', 'replace')
        # the command name (2nd field) may hold spaces and parentheses: split after the last ')'
        return int(stat.rsplit(')', 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def find_playbook_pid() -> int:
    """Return the outermost ancestor running ansible-playbook (its forked workers look alike), or 0."""
    found = 0
    pid = os.getppid()
    seen = set()
    while pid > 1 and pid not in seen:
        seen.add(pid)
        if any(os.path.basename(part) == 'ansible-playbook' for part in read_cmdline(pid)[:3]):
            found = pid
        pid = parent_of(pid)
    return found


def alive(pid: int) -> bool:
    """Tell whether a process exists (a zombie counts as gone where /proc tells)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open('/proc/%d/stat' % pid, 'rb') as handle:
            return handle.read().decode('utf-8', 'replace').rsplit(')', 1)[1].split()[0] != 'Z'
    except (OSError, IndexError):
        return True


def is_launcher(pid: int) -> bool:
    """Tell whether pid is a watchdog of this script (guards against a recycled pid)."""
    return any(os.path.basename(part) == os.path.basename(__file__) for part in read_cmdline(pid))


def stop_previous(run_dir: str) -> None:
    """Stop the watchdog (and so the simulator) of an earlier start in run_dir."""
    pid_path = os.path.join(run_dir, PID_FILE)
    try:
        with open(pid_path, encoding='utf-8') as handle:
            pid = int(handle.read().strip() or 0)
    except (OSError, ValueError):
        return
    if pid and alive(pid) and is_launcher(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
    try:
        os.remove(pid_path)
    except OSError:
        pass


def watchdog(args: argparse.Namespace, watch_pid: int) -> None:
    """Run in the detached process: start the simulator, stop it when its time is over."""
    run_dir = args.run_dir
    pid_path = os.path.join(run_dir, PID_FILE)
    with open(pid_path, 'w', encoding='utf-8') as handle:
        handle.write('%d\n' % os.getpid())

    stopping = []

    def on_signal(signum, frame):  # pylint: disable=unused-argument
        stopping.append(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    command = [sys.executable, args.simulator, 'serve', '--info-file', os.path.join(run_dir, INFO_FILE)] + args.serve_args
    print('%s watchdog %d: starting %s (watching ansible-playbook pid %s, max lifetime %ss)'
          % (time.strftime('%H:%M:%S'), os.getpid(), ' '.join(command), watch_pid or 'none', args.max_lifetime), flush=True)
    # pylint: disable-next=consider-using-with
    simulator = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=sys.stdout, stderr=sys.stderr, cwd=run_dir)
    deadline = time.monotonic() + args.max_lifetime
    reason = ''
    try:
        while not reason:
            time.sleep(POLL_SECONDS)
            if simulator.poll() is not None:
                reason = 'simulator exited with status %s' % simulator.returncode
            elif stopping:
                reason = 'signal %s' % stopping[0]
            elif watch_pid and not alive(watch_pid):
                reason = 'ansible-playbook %d has exited' % watch_pid
            elif time.monotonic() > deadline:
                reason = 'max lifetime of %ss reached' % args.max_lifetime
    finally:
        if simulator.poll() is None:
            simulator.terminate()
            try:
                simulator.wait(10)
            except subprocess.TimeoutExpired:
                simulator.kill()
                simulator.wait()
        print('%s watchdog %d: stopped (%s)' % (time.strftime('%H:%M:%S'), os.getpid(), reason), flush=True)
        try:
            os.remove(pid_path)
        except OSError:
            pass


def detach(args: argparse.Namespace, watch_pid: int) -> int:
    """Double-fork a watchdog with no tie to the caller's terminal or pipes; return its pid."""
    read_end, write_end = os.pipe()
    child = os.fork()
    if child:
        os.close(write_end)
        os.waitpid(child, 0)
        with os.fdopen(read_end, 'rb') as pipe:
            data = pipe.read().strip()
        return int(data or 0)

    # first child: new session, then fork the watchdog and leave
    os.close(read_end)
    os.setsid()
    grandchild = os.fork()
    if grandchild:
        os.write(write_end, b'%d' % grandchild)
        os._exit(0)  # pylint: disable=protected-access

    os.close(write_end)
    log_fd = os.open(os.path.join(args.run_dir, LOG_FILE), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    null_fd = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null_fd, 0)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(null_fd)
    os.close(log_fd)
    try:
        watchdog(args, watch_pid)
    finally:
        os._exit(0)  # pylint: disable=protected-access


def tail(path: str, lines: int = 30) -> str:
    """Return the end of a text file."""
    try:
        with open(path, encoding='utf-8', errors='replace') as handle:
            return ''.join(handle.readlines()[-lines:])
    except OSError:
        return ''


def main() -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--simulator', help='path of tiflux_sim.py (required unless --stop)')
    parser.add_argument('--run-dir', required=True, help='directory for the info, pid and log files')
    parser.add_argument('--timeout', type=float, default=60, help='seconds to wait for the info file')
    parser.add_argument('--max-lifetime', type=float, default=3600, help='stop the simulator after this many seconds')
    parser.add_argument('--watch-pid', type=int, help='stop when this pid exits (default: the ansible-playbook ancestor)')
    parser.add_argument('--stop', action='store_true', help='stop the simulator started in --run-dir, if any')
    parser.add_argument('serve_args', nargs=argparse.REMAINDER, help='options for tiflux_sim.py serve (after --)')
    args = parser.parse_args()
    if args.serve_args[:1] == ['--']:
        args.serve_args = args.serve_args[1:]
    args.run_dir = os.path.abspath(args.run_dir)
    if args.stop:
        was_running = os.path.exists(os.path.join(args.run_dir, PID_FILE))
        stop_previous(args.run_dir)
        print(json.dumps({'stopped': was_running, 'run_dir': args.run_dir}))
        return 0
    if not args.simulator:
        parser.error('--simulator is required')
    args.simulator = os.path.abspath(args.simulator)

    if not os.path.isfile(args.simulator):
        print('simulator not found: %s' % args.simulator, file=sys.stderr)
        return 1
    os.makedirs(args.run_dir, mode=0o700, exist_ok=True)
    stop_previous(args.run_dir)
    info_path = os.path.join(args.run_dir, INFO_FILE)
    log_path = os.path.join(args.run_dir, LOG_FILE)
    if os.path.exists(info_path):
        os.remove(info_path)

    watch_pid = args.watch_pid if args.watch_pid is not None else find_playbook_pid()
    launcher_pid = detach(args, watch_pid)

    deadline = time.monotonic() + args.timeout
    while True:
        try:
            with open(info_path, encoding='utf-8') as handle:
                info = json.load(handle)
            break
        except (OSError, ValueError):
            pass
        if not alive(launcher_pid) or time.monotonic() > deadline:
            why = 'exited' if not alive(launcher_pid) else 'wrote no info file in %ss' % args.timeout
            print('the simulator %s; %s says:\n%s' % (why, log_path, tail(log_path)), file=sys.stderr)
            if alive(launcher_pid):
                os.kill(launcher_pid, signal.SIGTERM)
            return 1
        time.sleep(0.1)

    public = {key: value for key, value in info.items() if key != 'admin_key'}
    public.update(launcher_pid=launcher_pid, watch_pid=watch_pid, run_dir=args.run_dir,
                  info_file=info_path, log_file=log_path, pid_file=os.path.join(args.run_dir, PID_FILE))
    print(json.dumps(public, sort_keys=True))
    return 0


if __name__ == '__main__':
    sys.exit(main())
