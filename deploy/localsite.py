"""Start the site as `make run` does (web server + database worker) in a folder of its own,
for the nginx smoke test in CI and for bench/load.py. Never used by the site itself."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from deploy.localnginx import REPO, free_port, wait_for_port

PYTHON = str(Path(sys.executable))
# As in the Procfile and the systemd unit: under a crowd the web server comes first, and the
# mail catches up (the worker renders every confirmation).
NICE = ["nice", "-n", "10"]
WEBSERVER = [PYTHON, "-m", "releasenow.webserver"]


class LocalSite:
    """One site: its DATA_DIR, its web server, its worker. SQLite unless a DATABASE_URL is given."""

    def __init__(self, folder: Path, env: dict[str, str] | None = None):
        self.folder = folder
        self.data_dir = folder / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "REDIS_URL", "EMAIL_URL", "EMAIL_HOST", "PORT")
        }
        self.env.update(
            DATA_DIR=str(self.data_dir),
            PORT=str(self.port),
            HOST="127.0.0.1",
            SITE_URL=f"http://127.0.0.1:{self.port}",
            DJANGO_SETTINGS_MODULE="releasenow.settings",
            PYTHONPATH=str(REPO),
        )
        self.env.update(env or {})
        self.web: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None

    def manage(self, *args: str, quiet: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [PYTHON, "manage.py", *args], cwd=REPO, env=self.env, check=True,
            capture_output=quiet, text=True,
        )  # fmt: skip

    def setup(self) -> None:
        self.manage("migrate", "--noinput", "-v0")
        self.manage("load_content", "content/default", "--if-empty")

    def start_web(self) -> None:
        log = self.folder / "web.log"
        self.log_start = log.stat().st_size if log.exists() else 0
        self.web = subprocess.Popen(
            WEBSERVER, cwd=REPO, env=self.env, stdout=subprocess.DEVNULL,
            stderr=open(log, "ab"),
        )  # fmt: skip
        wait_for_port(self.port)
        # Wait for every worker, or a warm-up would reach only some of them.
        workers = self.configured_workers()
        wait_until(lambda: self.started_workers() >= workers, 60)

    def configured_workers(self) -> int:
        """releasenow/webserver.py's worker count under this site's environment."""
        code = "from releasenow import webserver; print(webserver.workers())"
        result = subprocess.run(
            [PYTHON, "-c", code], cwd=REPO, env=self.env, check=True, capture_output=True, text=True
        )
        return int(result.stdout)

    def started_workers(self) -> int:
        """Workers that have loaded the site since the server last started, from its log."""
        with open(self.folder / "web.log", "rb") as log:
            log.seek(self.log_start)
            return log.read().count(b"] Started worker-")

    def listening(self) -> int:
        """How many sockets listen on the site's port."""
        count = 0
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                count += fields[1].endswith(f":{self.port:04X}") and fields[3] == "0A"
        return count

    def start_worker(self) -> None:
        self.manage("schedule_tasks")
        self.worker = subprocess.Popen(
            [*NICE, PYTHON, "manage.py", "db_worker", "--no-startup-delay"],
            cwd=REPO, env=self.env, stdout=subprocess.DEVNULL,
            stderr=open(self.folder / "worker.log", "ab"),
        )  # fmt: skip

    def run_tasks(self) -> None:
        """Run what is queued now, then stop (as the tests do)."""
        self.manage("db_worker", "--batch", "--no-startup-delay", "-v0")

    def web_workers(self) -> list[int]:
        """The web server's worker processes (children of its main process)."""
        if self.web is None:
            return []
        children = Path(f"/proc/{self.web.pid}/task/{self.web.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def stop(self) -> None:
        for process in (self.worker, self.web):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (self.worker, self.web):
            if process is not None:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
        self.web = self.worker = None


def wait_until(condition, timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()
