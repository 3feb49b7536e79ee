"""What one request costs the site's code, counted in CPU instructions: the same figure on a busy
machine as on an idle one, so that two versions can be compared a change at a time.

    .venv/bin/python bench/instructions.py                  # sign request, cached manifesto
    .venv/bin/python bench/instructions.py --requests 100   # quicker, a little less exact

Each request goes through the WSGI application in-process (no web server, no network), on a
site of its own in a temporary DATA_DIR (SQLite; each run on a copy of it), pages kept in the
page cache for the whole run. Under `valgrind --tool=callgrind` (Debian
package `valgrind`) a run with --requests requests after --warm ones to warm up, minus a run
with none, divided by --requests: instructions per request (hash seed fixed; two runs of the
same code differ by well under 1 %). Valgrind slows Python down about fifty times: a few
minutes in all, two runs at a time. Without valgrind, CPU time per request instead, which
moves with the machine. It asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deploy.localsite import LocalSite  # noqa: E402

TARGETS = {
    "sign": ("POST", "/en/manifesto/sign/"),
    "manifesto": ("GET", "/en/manifesto/"),
    "home": ("GET", "/en/"),
}
# Pages are kept for the whole run: under valgrind a run lasts minutes, and a page renewed every
# few seconds of it would count as many renders as the machine's speed allowed.
ENV = {
    "SIGNING_RATE_LIMIT": "100000000/m",
    "MAIL_LIMIT_PER_NETWORK": "100000000/h",
    "PAGE_CACHE_SECONDS": "3600",
}


def environ(method: str, path: str, i: int) -> dict:
    """A request as the web server hands it over; each sign request with an address not used
    before (runs of the same database go side by side)."""
    body = b""
    if method == "POST":
        body = urlencode({
            "full_name": f"Bench Signer {i}", "email": f"bench{os.getpid()}-{i}@example.org", "country": "LT",
            "visibility": "public", "group": "supporter", "privacy_consent": "on",
        }).encode()  # fmt: skip
    return {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_ACCEPT_ENCODING": "gzip", "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, "wsgi.version": (1, 0),
        "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
    }  # fmt: skip


def child(target: str, warm: int, requests: int) -> None:
    """Run in the measured process: warm up, then the requests counted."""
    from releasenow.wsgi import application

    method, path = TARGETS[target]
    expected = "302" if method == "POST" else "200"
    statuses = []

    def one(i: int) -> None:
        answer = application(
            environ(method, path, i), lambda status, headers: statuses.append(status)
        )
        b"".join(answer)
        getattr(answer, "close", lambda: None)()

    for i in range(warm):
        one(i)
    if not statuses[-1].startswith(expected):
        sys.exit(f"{target}: {statuses[-1]}, expected {expected}")
    began = time.process_time()
    for i in range(warm, warm + requests):
        one(i)
    print(f"cpu {time.process_time() - began:.6f}")


def measure(site: LocalSite, target: str, warm: int, requests: int, valgrind: bool) -> float:
    """Instructions (or CPU seconds) of `requests` requests: one process from start to end, on
    a copy of the site's data of its own (runs side by side would otherwise wait for each
    other's write lock, and waiting costs instructions too)."""
    data = site.folder / f"data-{target}-{requests}"
    shutil.copytree(site.data_dir, data)
    command = [sys.executable, __file__, "--child", target, "--warm", str(warm),
               "--requests", str(requests)]  # fmt: skip
    if valgrind:
        command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command]
    env = {**site.env, "DATA_DIR": str(data), "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, env=env, cwd=site.folder, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{target}: the measured process failed:\n{done.stdout}{done.stderr[-2000:]}")
    if valgrind:
        return float(re.search(r"refs:\s+([\d,]+)", done.stderr).group(1).replace(",", ""))
    return float(re.search(r"cpu ([\d.]+)", done.stdout).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "targets", nargs="*", help=f"of {', '.join(TARGETS)} (default: sign manifesto)"
    )
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warm", type=int, default=50)
    parser.add_argument("--child", choices=TARGETS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.warm, args.requests)
        return
    args.targets = args.targets or ["sign", "manifesto"]
    if unknown := set(args.targets) - set(TARGETS):
        parser.error(f"unknown: {', '.join(sorted(unknown))}; choose from {', '.join(TARGETS)}")

    valgrind = shutil.which("valgrind") is not None
    folder = Path(tempfile.mkdtemp(prefix="releasenow-instructions-"))
    site = LocalSite(folder, ENV)
    site.setup()
    print(f"site: SQLite in {site.data_dir}; {args.warm} requests to warm up, then {args.requests}")
    if not valgrind:
        print("valgrind is not installed: CPU time per request instead (it moves with the machine)")
    runs = [(target, n) for target in args.targets for n in (0, args.requests)]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        results = dict(zip(runs, pool.map(
            lambda run: measure(site, run[0], args.warm, run[1], valgrind), runs
        ), strict=True))  # fmt: skip
    for target in args.targets:
        method, path = TARGETS[target]
        if valgrind:
            per = (results[target, args.requests] - results[target, 0]) / args.requests
            print(
                f"  {target:10} {method} {path:22} {per / 1e6:6.2f} million instructions a request"
            )
        else:
            per = results[target, args.requests] / args.requests
            print(f"  {target:10} {method} {path:22} {per * 1e6:8.0f} µs of CPU a request")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
