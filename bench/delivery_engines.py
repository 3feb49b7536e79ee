"""WeasyPrint against Typst for the delivery document's list pages. Prints figures only.

    .venv/bin/python bench/delivery_engines.py [--rows 2000 10000] [--typst-rows 100000]

Both set the same synthetic list (Latin and Cyrillic names, roles, places) in three columns on
A4 with the system's DejaVu Sans, each run in a fresh process so that its peak memory is its
own. Typst is run on one document (no parts) to show what splitting into parts saves.
"""

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GIVEN = ["Aliaksandr", "Tatsiana", "Volha", "Аляксандр", "Таццяна", "Вольга", "Jan", "Zoë", "Piotr"]
FAMILY = ["Kalesnikava", "Babich", "Лукашэвіч", "Каваленка", "Łukaszewicz-Müller", "Žemaitis"]
ROLES = ["Journalist", "Human Rights Center Viasna", "Université de Genève", "", "", ""]
PLACES = ["Warsaw, Poland", "Вільнюс, Літва", "Berlin, Germany", "Poland", ""]


def entries(n: int) -> list[list[str]]:
    rng = random.Random(1)
    rows = []
    for _ in range(n):
        role, place = rng.choice(ROLES), rng.choice(PLACES)
        details = (f" ({role})" if role else "") + (f", {place}" if place else "")
        rows.append([f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}", details])
    return rows


def weasyprint(n: int, workdir: Path) -> Path:
    from weasyprint import HTML

    items = "".join(
        f'<li><span class="name">{escape(a)}</span>{escape(b)}</li>' for a, b in entries(n)
    )
    html = (
        '<html lang="be"><style>@page { size: A4; margin: 18mm 15mm 20mm; '
        '@bottom-center { content: counter(page); } } body { font: 9.5pt "DejaVu Sans"; } '
        "ol { columns: 3; column-gap: 6mm; list-style: none; padding: 0; font-size: 7.5pt; "
        "line-height: 1.3; } li { break-inside: avoid; margin: 0 0 1.2mm; } "
        f".name {{ font-weight: bold; }}</style><h2>Signatories</h2><ol>{items}</ol></html>"
    )
    out = workdir / "weasyprint.pdf"
    HTML(string=html).write_pdf(out)
    return out


def typst(n: int, workdir: Path) -> Path:
    import typst as typst_module

    data = {"kind": "list", "title": "Signatories", "heading": "Signatories", "start": 1,
            "lang": "be", "entries": entries(n)}  # fmt: skip
    (workdir / "data.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    template = workdir / "delivery.typ"
    template.write_text((ROOT / "signatures/delivery.typ").read_text(), encoding="utf-8")
    out = workdir / "typst.pdf"
    out.write_bytes(
        typst_module.compile(str(template), root=str(workdir), sys_inputs={"data": "data.json"})
    )
    return out


def run_one(engine: str, n: int) -> None:
    """In the child: set the list, print seconds, MB and pages."""
    from pypdf import PdfReader

    workdir = Path(tempfile.mkdtemp(prefix=f"{engine}-"))
    start = time.perf_counter()
    out = {"weasyprint": weasyprint, "typst": typst}[engine](n, workdir)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pages = len(PdfReader(out).pages)
    print(f"{engine:<11} {n:>8,} names {seconds:8.1f} s {peak:7.0f} MB peak {pages:5} pages")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[2000, 10_000])
    parser.add_argument("--typst-rows", type=int, nargs="*", default=[100_000])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_one(args.child[0], int(args.child[1]))
        return
    jobs = [(e, n) for n in args.rows for e in ("weasyprint", "typst")]
    jobs += [("typst", n) for n in args.typst_rows]
    for engine, n in jobs:
        subprocess.run([sys.executable, __file__, "--child", engine, str(n)], check=True)


if __name__ == "__main__":
    main()
