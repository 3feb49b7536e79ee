"""Keep one process running: restart it when it dies, stop it when told to stop.

    python -m releasenow.supervise COMMAND [ARG ...]

`make run` starts web and worker through honcho, which stops *everything* as soon as one of its
processes exits. Each Procfile line therefore runs under this supervisor: a web server or worker
that crashes or is killed (kill -9, out of memory) is started again after a short pause
(1 s, doubling up to 30 s while it keeps dying at once), and the other keeps serving. SIGTERM and
SIGINT (Ctrl+C in honcho) is passed on to the process, SIGHUP as SIGTERM (a web server takes
HUP as "reload"), and the supervisor exits when it has stopped.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

MIN_DELAY, MAX_DELAY = 1.0, 30.0
HEALTHY_AFTER = 60.0  # a process that ran this long was not dying at once: reset the pause
STOP_TIMEOUT = 25.0


def log(message: str) -> None:
    print(f"supervise: {message}", file=sys.stderr, flush=True)


def supervise(command: list[str]) -> int:
    stopping = False
    child: subprocess.Popen | None = None

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signal.SIGTERM if signum == signal.SIGHUP else signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, stop)

    delay = MIN_DELAY
    while True:
        started = time.monotonic()
        child = subprocess.Popen(command)  # noqa: S603 - the command is the operator's
        while True:
            try:
                code = child.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if stopping and time.monotonic() - started > STOP_TIMEOUT:
                    child.kill()
        if stopping:
            return code if code >= 0 else 0
        if time.monotonic() - started > HEALTHY_AFTER:
            delay = MIN_DELAY
        log(f"{command[0]} (pid {child.pid}) exited with {code}; restarting in {delay:.0f} s")
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline and not stopping:
            time.sleep(0.1)
        if stopping:
            return 0
        delay = min(delay * 2, MAX_DELAY)


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit("usage: python -m releasenow.supervise COMMAND [ARG ...]")
    sys.exit(supervise(sys.argv[1:]))


if __name__ == "__main__":
    main()
