"""Launch-day load test: pages and signing side by side, on the site as `make run` starts it.

    .venv/bin/python bench/load.py                      # short run (about 5 minutes)
    .venv/bin/python bench/load.py --duration 30 --sign-duration 60 --size 1000000 --nginx  # full
    .venv/bin/python bench/load.py --postgres postgres://postgres@127.0.0.1:5432/rn10 \\
        --redis redis://127.0.0.1:6379/10             # PostgreSQL + Redis (their data is replaced)
    .venv/bin/python bench/load.py --nginx              # also through the shipped nginx config

Starts its own site (the web server with the make-run defaults and the database worker) in a
temporary DATA_DIR, drives load at 127.0.0.1 only, bounded in time and count, and prints figures
next to the targets of issue 10. It asserts nothing. Phases:

1. pages alone (wrk): manifesto, home page, and a static file served by the same server;
2. signing at N clients (asyncio, keep-alive) while readers ask for the manifesto at a steady
   rate (wrk with bench/paced.lua, --reading-rate on --reading-connections); one web
   worker is killed with kill -9 half-way (a request left without an answer is sent again, as
   a person presses the button again); with --nginx, again through the shipped nginx
   configuration (TLS, micro-cache), pages and signing alike;
3. the mail queue drains; every signature is confirmed through its e-mailed link;
   accepted / stored / mailed / counted are compared;
4. flat with size: the manifesto, the first and last signatory pages and signing at 1,000
   signatures, then again after seeding --size confirmed signatures.

Needs Debian's `wrk` (apt-get install wrk). Every client is 127.0.0.1, so the limits per network
are raised far beyond the load (they still count every request).
The machine is shared with the load generator: compare ratios within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deploy import localnginx  # noqa: E402
from deploy.localsite import LocalSite, wait_until  # noqa: E402
from releasenow import webserver  # noqa: E402

TARGET_PAGES = 1500
TARGET_STATIC_RATIO = 0.75
TARGET_SIGNING = 500
TARGET_READING = 1000
PACED = Path(__file__).with_name("paced.lua")
# --services-first: the nice value of this run's scheduling group (autogroup). Nice 10 weighs
# 110 against a service's 1024, as CPUWeight=10 weighs against systemd's default of 100.
SERVICES_FIRST_NICE = 10


# wrk ---------------------------------------------------------------------------------------


def wrk(url: str, seconds: float, connections: int = 32, threads: int = 2) -> dict:
    """req/s, p50 and p99 (ms) of one wrk run, gzip accepted as browsers do."""
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
         "-H", "Accept-Encoding: gzip", url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return parse_wrk(out)


def parse_wrk(out: str) -> dict:
    def ms(label: str) -> float:
        m = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\b", out, re.M)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": rps,
        "p50": ms("50%"),
        "p99": ms("99%"),
        "non2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
    }


def combine(results: list[dict]) -> dict:
    """Several slices of one measurement: mean rate, the median p50 and the worst p99."""
    return {
        "rps": sum(r["rps"] for r in results) / len(results),
        "p50": sorted(r["p50"] for r in results)[len(results) // 2],
        "p99": max(r["p99"] for r in results),
        "non2xx": sum(r["non2xx"] for r in results),
    }


def show(label: str, r: dict, note: str = "") -> None:
    print(
        f"  {label:<34} {r['rps']:>9,.0f} req/s   p50 {r['p50']:7.1f} ms   p99 {r['p99']:7.1f} ms"
        + (f"   non-2xx {r['non2xx']}" if r["non2xx"] else "")
        + (f"   {note}" if note else "")
    )


# CPU by part of the set-up ------------------------------------------------------------------

PARTS = ("web", "database", "Redis", "mail worker", "nginx", "load generators")


def cpu_by_part(site: LocalSite) -> dict[str, float]:
    """CPU seconds used so far by each part of the set-up, and by the whole machine, from
    /proc. A process counts with its reaped children (the killed web worker with the web
    server's main process, PostgreSQL's ended backends with the postmaster, wrk with this process), so the
    difference of two readings is what each part took in between."""
    tick = os.sysconf("SC_CLK_TCK")
    own = {site.web.pid: "web", site.worker.pid: "mail worker", os.getpid(): "load generators"}
    by_name = {"postgres": "database", "redis-server": "Redis", "nginx": "nginx"}
    used = dict.fromkeys(PARTS, 0.0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        part = by_name.get(name) or own.get(int(entry.name)) or own.get(int(fields[1]))
        if part:
            used[part] += sum(int(f) for f in fields[11:15]) / tick
    cpu = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    used["machine"] = (sum(cpu[:8]) - cpu[3] - cpu[4]) / tick  # all but idle and iowait
    return used


def show_cpu(before: dict, after: dict, seconds: float, accepted: int) -> None:
    """CPU per accepted signature by part (the readers' pages included): what an app server
    and a database server need for a given rate, whatever else shares these two CPUs."""
    spent = {part: after[part] - before[part] for part in after}
    parts = {part: spent[part] for part in PARTS if spent[part] > 0.005 * seconds}
    parts["other"] = max(0.0, spent["machine"] - sum(spent[part] for part in PARTS))
    print(
        "  CPU per signature (ms, readers' pages included): "
        + " · ".join(f"{part} {1000 * used / max(accepted, 1):.1f}" for part, used in parts.items())
        + f"; the machine {spent['machine'] / seconds / (os.cpu_count() or 1):.0%} busy"
    )


# A small HTTP/1.1 client for signing ---------------------------------------------------------


class Connection:
    def __init__(self, port: int, tls: bool = False):
        self.port = port
        self.tls = None
        if tls:  # nginx with its self-signed certificate
            import ssl

            self.tls = ssl.create_default_context()
            self.tls.check_hostname = False
            self.tls.verify_mode = ssl.CERT_NONE
        self.reader = self.writer = None

    async def connect(self) -> None:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(
                "127.0.0.1", self.port, ssl=self.tls
            )

    async def request(self, method: str, path: str, body: bytes = b"", headers=()) -> tuple:
        await self.connect()
        head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}", *headers]
        if body:
            head += [
                "Content-Type: application/x-www-form-urlencoded",
                f"Content-Length: {len(body)}",
            ]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        try:
            status_line = await self.reader.readline()
            if not status_line:
                raise ConnectionError("closed")
            status = int(status_line.split()[1])
            response_headers = {}
            while (line := await self.reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                response_headers.setdefault(name.strip().lower(), []).append(value.strip())
            length = int(response_headers.get("content-length", ["0"])[0])
            content = await self.reader.readexactly(length) if length else b""
            if "close" in response_headers.get("connection", [""])[0].lower():
                self.close()
            return status, response_headers, content
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def sign_load(
    port: int, clients: int, seconds: float, start_index: int, on_half=None, tls: bool = False
) -> dict:
    """Each client signs with new addresses, back to back, until the time is up. A request
    that gets no answer (its worker was killed; through nginx, a 502 error page) is sent again,
    up to five times, as a person presses the button again; a signer counts as accepted once, when a "check your inbox"
    redirect comes back. Each client's connection is opened before the clock starts, as a
    signer's browser has it open from reading the page (64 TLS handshakes at once in this one
    Python process would otherwise count as the server's latency)."""
    counter = iter(range(start_index, 10**9))
    accepted, failed, latencies, killed = [], [0], [], [False]
    connections = [Connection(port, tls) for _ in range(clients)]
    await asyncio.gather(*(conn.connect() for conn in connections))
    start = time.monotonic()
    deadline = start + seconds
    timeline = []  # (seconds since the start, latency) of each answer

    async def client(conn: Connection) -> None:
        while time.monotonic() < deadline:
            i = next(counter)
            body = urlencode({
                "full_name": f"Load Signer {i}", "email": f"load{i}@example.org", "country": "LT",
                "visibility": "public", "group": "supporter", "privacy_consent": "on",
            }).encode()  # fmt: skip
            for attempt in range(5):
                began = time.monotonic()
                try:
                    status, headers, _ = await conn.request("POST", "/en/manifesto/sign/", body)
                except (
                    OSError,
                    ConnectionError,
                    asyncio.IncompleteReadError,
                    ValueError,
                    IndexError,
                ):
                    failed[0] += 1
                    await asyncio.sleep(0.1 * 2**attempt)
                    continue
                if status in (502, 504):  # nginx got no answer from the app: the same
                    failed[0] += 1
                    await asyncio.sleep(0.1 * 2**attempt)
                    continue
                latencies.append(time.monotonic() - began)
                timeline.append((began - start, latencies[-1]))
                location = headers.get("location", [""])[0]
                if status == 302 and location.endswith("/check-your-inbox/"):
                    accepted.append(i)
                else:
                    failed[0] += 1
                break
        conn.close()

    async def killer() -> None:
        await asyncio.sleep(seconds / 2)
        if on_half:
            on_half()
            killed[0] = True

    began = time.monotonic()
    await asyncio.gather(killer(), *(client(conn) for conn in connections))
    elapsed = time.monotonic() - began
    latencies.sort()

    def pct(q: float, values: list[float]) -> float:
        return values[min(len(values) - 1, int(q * len(values)))] * 1000 if values else float("nan")

    # The p99 of each sixth of the run: where the slow answers are (the kill is half-way).
    slices = [sorted(lat for t, lat in timeline if k * seconds / 6 <= t < (k + 1) * seconds / 6)
              for k in range(6)]  # fmt: skip
    return {
        "accepted": len(accepted), "failed": failed[0], "seconds": elapsed,
        "rate": len(accepted) / elapsed, "p50": pct(0.5, latencies), "p99": pct(0.99, latencies),
        "p99_slices": [pct(0.99, values) for values in slices], "indexes": accepted,
        "timeline": timeline,
    }  # fmt: skip


async def confirm_all(port: int, paths: list[str], clients: int = 16) -> int:
    """Open each e-mailed confirm link and press the button, as a signer does."""
    queue = list(paths)
    done = [0]

    async def client() -> None:
        conn = Connection(port)
        cookie, token = "", ""
        while queue:
            path = queue.pop()
            for _attempt in range(3):
                try:
                    if not token:
                        _, headers, html = await conn.request("GET", path)
                        token = (
                            re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', html)
                            .group(1)
                            .decode()
                        )
                        cookie = next(
                            c.split(";")[0]
                            for c in headers["set-cookie"]
                            if c.startswith("csrftoken=")
                        )
                    status, _, html = await conn.request(
                        "POST", path, urlencode({"csrfmiddlewaretoken": token}).encode(),
                        headers=[f"Cookie: {cookie}", f"Origin: http://127.0.0.1:{port}"],
                    )  # fmt: skip
                    if status == 200 and b"Thank you" in html:
                        done[0] += 1
                    break
                except (
                    OSError,
                    ConnectionError,
                    asyncio.IncompleteReadError,
                    AttributeError,
                    StopIteration,
                    KeyError,
                ):
                    token = ""
                    await asyncio.sleep(0.1)
        conn.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return done[0]


# The site's own figures, read with manage.py --------------------------------------------------


def query(site: LocalSite, code: str) -> str:
    out = site.manage("shell", "--no-imports", "-c", textwrap.dedent(code)).stdout.strip()
    return out.splitlines()[-1] if out else ""


def stored_count(site: LocalSite) -> int:
    return int(query(site, """
        from signatures.models import Signature
        print(Signature.objects.filter(email_digest__isnull=False, full_name__startswith="Load Signer").count())
    """))  # fmt: skip


def pending_mail(site: LocalSite) -> int:
    return int(query(site, """
        from mail.models import OutgoingMail
        print(OutgoingMail.objects.filter(status__in=["queued", "sending"]).count())
    """))  # fmt: skip


def petition_count(site: LocalSite) -> int:
    return int(query(site, """
        from campaigns.models import Petition
        print(Petition.objects.get(slug="manifesto").signature_count)
    """))  # fmt: skip


def confirm_links(site: LocalSite) -> list[str]:
    """One confirm link per signer of the load test who was mailed one (a signer who pressed
    again after a lost answer has two; either confirms)."""
    links = {}
    for path in (site.data_dir / "outbox").glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes())
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                text = part.get_payload(decode=True).decode(errors="replace")
                m = re.search(r"https?://[^/\s]+(/en/manifesto/confirm/\S+/)", text)
                if m and "Load Signer" in text:
                    links[message["To"]] = m.group(1)
    return sorted(links.values())


def reset(site: LocalSite) -> None:
    """A PostgreSQL database given on the command line starts from zero signatures."""
    query(site, """
        from campaigns.models import Petition
        from django_tasks_db.models import DBTaskResult
        from mail.models import OutgoingMail
        from signatures.models import AuditEntry, CountryCount, Signature, SigningStat
        AuditEntry.objects.all().delete(); Signature.objects.all().delete()
        CountryCount.objects.all().delete(); SigningStat.objects.all().delete()
        DBTaskResult.objects.all().delete(); OutgoingMail.objects.all().delete()
        Petition.objects.update(signature_count=0)
        print("ok")
    """)  # fmt: skip


def seed(site: LocalSite, total: int) -> float:
    """Confirmed signatures up to `total` rows, older than any from the load test: one row made
    through the ORM, copied by a single INSERT … SELECT (a million rows in about a minute)."""
    began = time.monotonic()
    query(site, f"""
        from django.db import connection
        from django.db.models import F
        from django.utils import timezone
        from campaigns.models import Petition
        from signatures.models import CountryCount, Signature
        petition = Petition.objects.get(slug="manifesto")
        have = Signature.objects.filter(full_name__startswith="Seeded").count()
        first, last = have + 1, {total}
        if last >= first:
            template = Signature.objects.create(
                petition=petition, status="confirmed", counted=True, listed=True,
                moderation="approved", confirmed_at=timezone.now(), full_name="Seeded template",
                city="Vilnius", country="LT", visibility="public", email_digest="seed-template",
                email_encrypted="x")
            pg = connection.vendor == "postgresql"
            override = {{
                "uuid": "md5(s.n::text || random()::text)::uuid" if pg else "lower(hex(randomblob(16)))",
                "email_digest": "lpad(to_hex(s.n), 64, '0')" if pg else "printf('%064x', s.n)",
                "full_name": "'Seeded Signer ' || s.n",
                "listed": "(s.n % 5 <> 0)",
                "visibility": "CASE WHEN s.n % 5 = 0 THEN 'anonymous' ELSE 'public' END",
                "confirmed_at": "now() - interval '1 day' - s.n * interval '1 second'" if pg
                    else "strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 day', '-' || s.n || ' seconds')",
            }}
            override["created_at"] = override["confirmed_at"]
            table = connection.ops.quote_name(Signature._meta.db_table)
            columns = [f.column for f in Signature._meta.concrete_fields if f.column != "id"]
            names = ", ".join(connection.ops.quote_name(c) for c in columns)
            values = ", ".join(override.get(c, "tpl." + connection.ops.quote_name(c)) for c in columns)
            series = (f"generate_series({{first}}, {{last}}) AS s(n)" if pg else "s")
            cte = "" if pg else (f"WITH RECURSIVE s(n) AS (SELECT {{first}} UNION ALL "
                                 f"SELECT n + 1 FROM s WHERE n < {{last}}) ")
            with connection.cursor() as cursor:
                cursor.execute(f"INSERT INTO {{table}} ({{names}}) {{cte}}SELECT {{values}} "
                               f"FROM {{series}}, {{table}} AS tpl WHERE tpl.id = {{template.id}}")
            template.delete()
            added = last - have
            Petition.objects.filter(pk=petition.pk).update(signature_count=F("signature_count") + added)
            CountryCount.add(petition.pk, "LT", added)
            if pg:  # as on a site that has had its signatures for a while: vacuumed too (an
                # autovacuum of the new million rows ran during the measurement after it)
                cursor = connection.cursor(); cursor.execute("VACUUM (ANALYZE)")
        print("ok")
    """)  # fmt: skip
    return time.monotonic() - began


def last_signatories_path(site: LocalSite) -> str:
    cursor = query(site, """
        from signatures.models import Signature
        from signatures.views import PAGE_SIZE
        public = Signature.objects.public().not_former_prisoners().newest_first()
        n = public.count()
        print(public[max(0, n - PAGE_SIZE - 1)].cursor() if n > PAGE_SIZE else "")
    """)  # fmt: skip
    return f"/en/manifesto/signatories/?before={cursor}" if cursor else "/en/manifesto/signatories/"


# The run ------------------------------------------------------------------------------------


def transferred(url: str) -> int:
    out = subprocess.run(
        [
            "curl",
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{size_download} %{size_header}",
            "-H",
            "Accept-Encoding: gzip",
            url,
        ],
        capture_output=True,
        text=True,
    ).stdout
    return sum(int(n) for n in out.split())


def page_weight(base: str, path: str) -> int:
    """What a browser fetches for the page: the HTML and every file it links to (stylesheets,
    scripts, icons, images), compressed where the server compresses, headers included."""
    html = subprocess.run(["curl", "-s", base + path], capture_output=True, text=True).stdout
    linked = set(re.findall(r'(?:src|href)="(/(?:static|media)/[^"]+)"', html))
    return transferred(base + path) + sum(transferred(base + url) for url in linked)


def machine() -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), platform.processor(),
    )  # fmt: skip
    load = os.getloadavg()
    return (
        f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
        f"load average before the run {load[0]:.1f} (shared machine: compare ratios)"
    )


def listeners() -> str:
    """How the workers listen: a socket each (granian's SO_REUSEPORT), and whether the kernel
    hands a dying worker's waiting connections to the others (deploy/sysctl/90-releasenow.conf)."""
    migrate = Path("/proc/sys/net/ipv4/tcp_migrate_req")
    value = migrate.read_text().strip() if migrate.exists() else "absent"
    return f"a socket per worker, tcp_migrate_req={value}"


def yield_to_services() -> None:
    """Run the rest of this run (the site, its worker, wrk and the signers) in a scheduling
    group of its own at a lower CPU weight than the machine's other processes, PostgreSQL and
    Redis among them. The systemd units in deploy/ give the web server and the worker a
    CPUWeight below the database's and the cache's for the same reason: when the machine is
    saturated, a Redis or PostgreSQL that waits for a CPU stalls every web process at once
    (README, Performance). nginx (--nginx) is in the group too, where a deployment gives it the
    services' weight.

    The group is the kernel's autogroup of a new session: this process forks, the child leads
    a session of its own and runs the measurement, and the parent only waits for it (passing
    on Ctrl-C), so the shell that started the run keeps its weight. Exits with a message when
    the kernel would not apply the weight."""
    if Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip() != "1":
        sys.exit("--services-first needs the kernel's autogroups (kernel.sched_autogroup_enabled)")
    sys.stdout.flush()
    child = os.fork()
    if child:
        while True:
            try:
                _, status = os.waitpid(child, 0)
                break
            except KeyboardInterrupt:
                os.kill(child, signal.SIGINT)
        sys.exit(os.waitstatus_to_exitcode(status))
    os.setsid()
    own = Path("/proc/self/autogroup")
    try:
        own.write_text(f"{SERVICES_FIRST_NICE}\n")
    except OSError as exc:
        sys.exit(f"--services-first: cannot lower this run's CPU weight ({exc})")
    if not own.read_text().strip().endswith(f"nice {SERVICES_FIRST_NICE}"):
        sys.exit(f"--services-first: the weight did not take ({own.read_text().strip()})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=8, help="seconds of each page run (wrk)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating slices of the page runs")
    parser.add_argument(
        "--sign-duration", type=float, default=20, help="seconds of signing under page load"
    )
    parser.add_argument("--sign-clients", type=int, default=64)
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument(
        "--size",
        type=int,
        default=100_000,
        help="signatures seeded for the flat-with-size check (0: skip)",
    )
    parser.add_argument(
        "--postgres", metavar="URL", help="DATABASE_URL to use (its signatures are deleted)"
    )
    parser.add_argument("--redis", metavar="URL", help="REDIS_URL to use")
    parser.add_argument(
        "--nginx", action="store_true", help="also measure through the shipped nginx config"
    )
    parser.add_argument(
        "--web-concurrency",
        help="web server processes (default: releasenow/webserver.py's, one per core, at most 8)",
    )
    parser.add_argument(
        "--reading-rate", type=int, default=1100,
        help="page views a second offered during signing (readers at a steady rate)",
    )  # fmt: skip
    parser.add_argument(
        "--reading-connections", type=int, default=256, help="readers' connections during signing"
    )
    parser.add_argument(
        "--services-first", action="store_true",
        help="run the site and the load at a lower CPU weight than PostgreSQL and Redis, as the "
        "systemd units in deploy/ do (CPUWeight=)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.services_first:
        yield_to_services()
    if not shutil.which("wrk"):
        sys.exit("bench/load.py needs wrk: apt-get install wrk")

    folder = Path(tempfile.mkdtemp(prefix="releasenow-load-"))
    # Every simulated signer comes from 127.0.0.1: the limits count as on a real day, but are
    # set far above what one address may do, so that none of them holds anything back.
    env = {"SIGNING_RATE_LIMIT": "100000000/m", "MAIL_LIMIT_PER_NETWORK": "100000000/h"}
    if args.web_concurrency:
        env["WEB_CONCURRENCY"] = args.web_concurrency
    if args.postgres:
        env["DATABASE_URL"] = args.postgres
    if args.redis:
        env["REDIS_URL"] = args.redis
    site = LocalSite(folder, env)
    nginx = None
    print(f"machine: {machine()}")
    print(
        f"site: {'PostgreSQL' if args.postgres else 'SQLite'} + {'Redis' if args.redis else 'no Redis'}, "
        f"granian {site.configured_workers()} x {webserver.threads()} threads ({listeners()}), "
        f"worker: 1 db_worker, DATA_DIR {site.data_dir}"
        + (
            f"; site and load at nice {SERVICES_FIRST_NICE} (--services-first)"
            if args.services_first
            else ""
        )
    )
    site.setup()
    if args.postgres:
        reset(site)
    site.start_web()
    site.start_worker()
    base = f"http://127.0.0.1:{site.port}"
    try:
        html = subprocess.run(["curl", "-s", f"{base}/en/"], capture_output=True, text=True).stdout
        static = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', html).group(1)
        size = subprocess.run(
            [
                "curl",
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{size_download}",
                "-H",
                "Accept-Encoding: gzip",
                f"{base}/en/manifesto/",
            ],
            capture_output=True,
            text=True,
        ).stdout
        weight = page_weight(base, "/en/manifesto/")
        for path in ("/en/", "/en/manifesto/", static):  # warm the caches
            subprocess.run(["curl", "-s", "-o", "/dev/null", base + path], check=True)
        # A site on a viral day has been running: every thread has its connection open and its
        # code loaded. Warm up with a few seconds of signing (counted in the totals below).
        warm = asyncio.run(sign_load(site.port, args.sign_clients, 3, 9 * 10**6))
        # Its mail is sent before pages are measured: the worker catching up on a backlog
        # would take the CPU from section 1's first page alone (its p99 went to 430 ms).
        began = time.monotonic()
        wait_until(lambda: pending_mail(site) == 0, timeout=600, step=0.5)
        print(
            f"\nwarm-up: {warm['accepted']:,} signatures in 3 s, their mail sent in "
            f"{time.monotonic() - began:.0f} s (not measured); "
            f"{len(site.web_workers())} web server workers"
        )

        print(
            f"\n1. Pages alone, wrk -c{args.connections}, {args.duration:.0f} s each in {args.rounds} "
            f"alternating slices (manifesto {int(size):,} bytes gzipped)"
        )
        targets = {
            "manifesto /en/manifesto/": base + "/en/manifesto/",
            "home page /en/": base + "/en/",
            f"static file {static.rsplit('/', 1)[1]}": base + static,
        }
        runs = {label: [] for label in targets}
        for _round in range(args.rounds):  # alternate, so a noisy neighbour hits all alike
            for label, url in targets.items():
                runs[label].append(wrk(url, args.duration / args.rounds, args.connections))
        pages = {label: combine(results) for label, results in runs.items()}
        static_rps = list(pages.values())[-1]["rps"]
        for label, r in pages.items():
            ratio = r["rps"] / static_rps
            show(label, r, f"{ratio:4.0%} of static" if "static" not in label else "")

        killed = []

        def kill_one() -> None:
            workers = site.web_workers()
            if workers:
                os.kill(workers[0], signal.SIGKILL)
                killed.append(workers[0])

        def signing_under_reading(port: int, tls: bool, first: int) -> tuple[dict, dict]:
            scheme = "https" if tls else "http"
            # Readers at a steady rate (bench/paced.lua), many connections, as on a real day:
            # what the target asks is that their pages keep coming, not how many more a
            # reader flooding the same two cores could take from the signers.
            reader = subprocess.Popen(
                ["wrk", "-t1", f"-c{args.reading_connections}", f"-d{round(args.sign_duration)}s",
                 "--latency", "-H", "Accept-Encoding: gzip", "-s", str(PACED),
                 f"{scheme}://127.0.0.1:{port}/en/manifesto/", "--", str(args.reading_rate), "1"],
                stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            before, began = cpu_by_part(site), time.monotonic()
            signing = asyncio.run(
                sign_load(port, args.sign_clients, args.sign_duration, first, kill_one, tls)
            )
            during = parse_wrk(reader.communicate()[0])
            cpu = (before, cpu_by_part(site), time.monotonic() - began, signing["accepted"])
            show("manifesto during signing", during)
            print(
                f"  signing: {signing['accepted']:,} accepted in {signing['seconds']:.1f} s = "
                f"{signing['rate']:,.0f} signatures/s, p50 {signing['p50']:.0f} ms, "
                f"p99 {signing['p99']:.0f} ms, {signing['failed']} requests without an answer "
                f"(sent again); killed web worker {killed[-1] if killed else 'none'}"
            )
            print(
                "  signing p99 by sixth of the run (ms): "
                + " | ".join(f"{p:.0f}" for p in signing["p99_slices"])
            )
            show_cpu(*cpu)
            return signing, during

        print(
            f"\n2. Signing, {args.sign_clients} clients for {args.sign_duration:.0f} s, while "
            f"readers ask for the manifesto {args.reading_rate:,} times a second (wrk, "
            f"{args.reading_connections} connections); kill -9 of one web worker half-way; "
            "from the app server alone"
        )
        signing, during = signing_under_reading(site.port, False, 0)
        accepted = warm["accepted"] + signing["accepted"]
        via_nginx = None
        if args.nginx and localnginx.nginx_binary():
            nginx, https_port, _ = localnginx.start(
                folder / "nginx", app_port=site.port, data_dir=site.data_dir, workers=2
            )
            print("\n2b. The same through the shipped nginx configuration (TLS, micro-cache)")
            for _ in range(2):  # a site on a viral day has its pages in the micro-cache
                subprocess.run(
                    ["curl", "-sk", "-o", "/dev/null", "-H", "Accept-Encoding: gzip",
                     f"https://127.0.0.1:{https_port}/en/manifesto/"], check=True,
                )  # fmt: skip
            via_nginx = signing_under_reading(https_port, True, 5 * 10**6)
            accepted += via_nginx[0]["accepted"]

        print("\n3. Drain, confirm, count")
        began = time.monotonic()
        wait_until(lambda: pending_mail(site) == 0, timeout=600, step=1)
        drain = time.monotonic() - began
        stored = stored_count(site)
        links = confirm_links(site)
        print(
            f"  mail queue drained {drain:.0f} s after signing ended ({len(links):,} confirmation mails)"
        )
        began = time.monotonic()
        confirmed = asyncio.run(confirm_all(site.port, links))
        print(f"  confirmed {confirmed:,} through their links in {time.monotonic() - began:.0f} s")
        counted = petition_count(site)
        ok = accepted == stored == len(links) == counted
        print(
            f"  accepted {accepted:,} / stored {stored:,} / mailed {len(links):,} / counted {counted:,}"
            f"   {'all equal' if ok else 'NOT EQUAL'}"
        )
        if stored > accepted:
            print(
                f"  {stored - accepted} stored whose answer was lost with the killed worker "
                "(the signer saw an error; signing again mails the link)"
            )
        if stored > len(links):
            print(
                f"  {stored - len(links)} stored without a confirmation mail (a signature and its "
                "queued mail commit together: this would be a bug)"
            )

        flat = {}
        if args.size:
            print(f"\n4. Flat with size: 1,000 signatures vs {args.size:,}")
            for total in (1000, args.size):
                seconds = seed(site, total)
                # The mail of the previous signing must not be rendered during the page runs.
                wait_until(lambda: pending_mail(site) == 0, timeout=600, step=1)
                last = last_signatories_path(site)
                time.sleep(args.duration and 1)
                row = {
                    "manifesto": wrk(base + "/en/manifesto/", args.duration / 2, args.connections),
                    "signatories, first page": wrk(
                        base + "/en/manifesto/signatories/", args.duration / 2, args.connections
                    ),
                    "signatories, last page": wrk(base + last, args.duration / 2, args.connections),
                }
                sign_rate = asyncio.run(
                    sign_load(
                        site.port, args.sign_clients, args.duration / 2, 10**6 * (1 + len(flat))
                    )
                )
                row["signing"] = {
                    "rps": sign_rate["rate"],
                    "p50": sign_rate["p50"],
                    "p99": sign_rate["p99"],
                    "non2xx": 0,
                }
                flat[total] = row
                print(f"  {total:,} signatures (seeded in {seconds:.0f} s):")
                for label, r in row.items():
                    show(label, r)
            small, large = flat[1000], flat[args.size]
            for label in small:
                print(
                    f"  {label:<34} at {args.size:,}: {large[label]['rps'] / small[label]['rps']:5.0%} of the figure at 1,000"
                )

        through = None
        if nginx is not None:
            through = wrk(
                f"https://127.0.0.1:{https_port}/en/manifesto/", args.duration, args.connections
            )
            print("\n5. Through the shipped nginx configuration (TLS, micro-cache)")
            show("manifesto via nginx (https)", through)

        print(
            "\nSummary against the targets of issue 10 (goals, not assertions; shared 2-core machine)"
        )
        m, h = pages["manifesto /en/manifesto/"], pages["home page /en/"]
        print(
            f"  pages from the app server: manifesto {m['rps']:,.0f}, home {h['rps']:,.0f} req/s "
            f"(target {TARGET_PAGES:,}); {m['rps'] / static_rps:.0%} / {h['rps'] / static_rps:.0%} of the static "
            f"file's {static_rps:,.0f} (target {TARGET_STATIC_RATIO:.0%}); p99 {m['p99']:.0f} / {h['p99']:.0f} ms (target < 100)"
        )
        print(
            f"  signing: {signing['rate']:,.0f} accepted/s at {args.sign_clients} clients (target {TARGET_SIGNING}), "
            f"p99 {signing['p99']:.0f} ms (target < 250), pages meanwhile {during['rps']:,.0f} req/s "
            f"of {args.reading_rate:,} offered, p99 {during['p99']:.0f} ms (target {TARGET_READING:,}); "
            f"accepted = stored = mailed = counted: {'yes' if ok else 'no'}"
        )
        if via_nginx:
            sign_n, during_n = via_nginx
            print(
                f"  signing through nginx: {sign_n['rate']:,.0f} accepted/s, p99 {sign_n['p99']:.0f} ms, "
                f"pages meanwhile {during_n['rps']:,.0f} req/s (p99 {during_n['p99']:.0f} ms)"
            )
        print(f"  weight: manifesto {weight:,} bytes transferred in total, gzip (target <= 60 KB)")
        if through:
            print(f"  behind nginx: {through['rps']:,.0f} req/s (target 20,000)")
    finally:
        if nginx is not None:
            nginx.terminate()
        site.stop()
        if not os.environ.get("KEEP"):
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
