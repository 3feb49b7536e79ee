"""`make run`: a process that dies is restarted, and the other keeps serving."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

CHILD = "import os, sys, time; open(sys.argv[1], 'a').write(f'{os.getpid()}\\n'); time.sleep(120)"


def pids(path: Path) -> list[int]:
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def wait_for(condition, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_a_killed_process_is_restarted_and_sigterm_stops_both(tmp_path):
    record = tmp_path / "pids"
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "releasenow.supervise", sys.executable, "-c", CHILD, str(record)],
        cwd=settings.BASE_DIR,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: len(pids(record)) == 1)
        first = pids(record)[0]
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: len(pids(record)) == 2)
        second = pids(record)[1]
        assert second != first and alive(second)
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(15) == 0
        wait_for(lambda: not alive(second), 5)
    finally:
        supervisor.kill()
    assert "exited with -9; restarting in 1 s" in supervisor.stderr.read()


def test_under_honcho_one_dead_process_does_not_stop_the_other(tmp_path):
    """The shape of `make run`: two supervised Procfile lines under honcho."""
    procfile = tmp_path / "Procfile"
    procfile.write_text(
        "".join(
            f'{name}: {sys.executable} -m releasenow.supervise {sys.executable} -c "{CHILD}" '
            f"{tmp_path / name}\n"
            for name in ("web", "worker")
        )
    )
    honcho = subprocess.Popen(
        [str(Path(sys.executable).parent / "honcho"), "-f", str(procfile), "-d",
         str(settings.BASE_DIR), "start"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        wait_for(lambda: pids(tmp_path / "web") and pids(tmp_path / "worker"))
        web, worker = pids(tmp_path / "web")[0], pids(tmp_path / "worker")[0]
        os.kill(worker, signal.SIGKILL)
        wait_for(lambda: len(pids(tmp_path / "worker")) == 2)
        assert alive(web) and pids(tmp_path / "web") == [web]  # kept serving, untouched
        assert honcho.poll() is None
        honcho.send_signal(signal.SIGINT)
        honcho.wait(20)
        wait_for(lambda: not alive(web) and not alive(pids(tmp_path / "worker")[1]), 10)
    finally:
        if honcho.poll() is None:
            os.killpg(honcho.pid, signal.SIGKILL)
