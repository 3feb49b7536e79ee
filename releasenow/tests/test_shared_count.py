"""The count on cached pages, shared by every worker process for a slot (PAGE_COUNT_SECONDS):
on a real server whose four processes answer in turn, while signatures are counted, a reader
never sees the count go down and sees it move within a slot or two."""

import re
import sqlite3
import threading
import time
import urllib.request

import pytest

from deploy.localsite import LocalSite


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    local = LocalSite(
        tmp_path_factory.mktemp("shared-count"),
        env={"WEB_CONCURRENCY": "4", "WEB_THREADS": "2", "PAGE_COUNT_SECONDS": "1"},
    )
    local.setup()
    local.start_web()
    try:
        yield local
    finally:
        local.stop()


def shown(site: LocalSite) -> int:
    """The count of the manifesto page, on a new connection (so any worker may answer)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{site.port}/en/manifesto/", timeout=10) as r:
        html = r.read().decode()
    return int(
        re.search(r'class="count"><strong>([\d,]+)</strong>', html).group(1).replace(",", "")
    )


def test_the_count_never_goes_down_from_one_answer_to_the_next_and_keeps_up(site):
    path = site.data_dir / "releasenow.sqlite3"
    stop = threading.Event()

    def count_signatures():  # as confirmations do, on the petition row
        database = sqlite3.connect(path, timeout=30)
        while not stop.is_set():
            database.execute(
                "UPDATE campaigns_petition SET signature_count = signature_count + 1 "
                "WHERE slug = 'manifesto'"
            )
            database.commit()
            time.sleep(0.005)

    counter = threading.Thread(target=count_signatures, daemon=True)
    counter.start()
    seen = []
    try:
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            seen.append(shown(site))
    finally:
        stop.set()
        counter.join()
    assert len(seen) > 50
    assert all(a <= b for a, b in zip(seen, seen[1:], strict=False)), "the count went down"
    assert len(set(seen)) >= 3  # it moved, slot by slot
    (final,) = (
        sqlite3.connect(path)
        .execute("SELECT signature_count FROM campaigns_petition WHERE slug = 'manifesto'")
        .fetchone()
    )
    time.sleep(2.1)  # two slots at most
    assert shown(site) == final
