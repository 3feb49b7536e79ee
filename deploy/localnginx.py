"""Run the shipped nginx configuration unprivileged, in a temporary folder, for CI and benchmarks.

The site file (deploy/nginx/releasenow.conf) is used as shipped; only what an operator would
edit anyway is replaced: ports, host name, paths, certificates (a self-signed one here).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SITE_CONF = REPO / "deploy" / "nginx" / "releasenow.conf"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def render_site(
    folder: Path, *, app_port: int, https_port: int, http_port: int, data_dir: Path
) -> str:
    cert, key = self_signed_certificate(folder)
    conf = SITE_CONF.read_text()
    for old, new in [
        ("listen [::]:80;\n", ""),
        ("listen [::]:443 ssl http2;\n", ""),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};"),
        ("server_name releasenow.example;", "server_name localhost 127.0.0.1;"),
        ("/etc/letsencrypt/live/releasenow.example/fullchain.pem", str(cert)),
        ("/etc/letsencrypt/live/releasenow.example/privkey.pem", str(key)),
        ("/var/cache/nginx/releasenow", str(folder / "cache")),
        ("/var/log/nginx/releasenow.access.log", str(folder / "access.log")),
        ("/var/www/html", str(folder / "www")),
        ("/srv/releasenow/app/", f"{REPO}/"),
        ("/srv/releasenow/data/", f"{data_dir}/"),
    ]:
        assert old in conf, f"{old!r} not in {SITE_CONF}"
        conf = conf.replace(old, new)
    return conf


def start(
    folder: Path, *, app_port: int, data_dir: Path, workers: int = 1
) -> tuple[subprocess.Popen, int, int]:
    """Start nginx in front of 127.0.0.1:app_port; returns (process, https_port, http_port)."""
    folder.mkdir(parents=True, exist_ok=True)
    https_port, http_port = free_port(), free_port()
    (folder / "releasenow.conf").write_text(
        render_site(
            folder, app_port=app_port, https_port=https_port, http_port=http_port,
            data_dir=data_dir,
        )
    )  # fmt: skip
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"  {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (folder / "nginx.conf").write_text(
        f"""{user}worker_processes {workers};
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
daemon off;
events {{ worker_connections 4096; }}
http {{
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  sendfile on;
{temp}
  include {folder / "releasenow.conf"};
}}
"""
    )
    binary = nginx_binary()
    check = subprocess.run(
        [binary, "-t", "-p", str(folder), "-c", str(folder / "nginx.conf")],
        capture_output=True, text=True,
    )  # fmt: skip
    if check.returncode:
        raise RuntimeError(f"nginx -t failed:\n{check.stderr}")
    process = subprocess.Popen(
        [binary, "-p", str(folder), "-c", str(folder / "nginx.conf")],
        stdout=subprocess.DEVNULL, stderr=open(folder / "stderr.log", "wb"),
    )  # fmt: skip
    wait_for_port(https_port)
    return process, https_port, http_port


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")
