"""Typesetting long documents in parts, each in a fresh process.

Typst lays out 100,000 names in seconds where an HTML renderer needs many minutes, but it keeps
a cache of everything it laid out for the life of the process (about 45 MB per 5,000 names).
Each part is therefore compiled in a short-lived child process: memory stays flat, whatever the
size of the list. The children import only Typst, WeasyPrint or pypdf, never Django; data passes
through JSON files, inserted as text (never as markup), so a name cannot inject Typst code.
While a child sets one part, the caller prepares the next.
"""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path


def _compile(template: str, data: str, output: str, start: int) -> int:
    """In the child: compile `template` with `data` (a JSON file beside it) to `output`, its
    pages numbered from `start`."""
    import typst
    from pypdf import PdfReader

    root = Path(data).parent
    inputs = {"data": Path(data).name, "start": str(start)}
    Path(output).write_bytes(typst.compile(template, root=str(root), sys_inputs=inputs))
    return len(PdfReader(output).pages)


def _html_to_pdf(html: str, output: str) -> int:
    """In the child: a short HTML document with WeasyPrint, nothing fetched from the network."""
    from pypdf import PdfReader
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf(output)
    return len(PdfReader(output).pages)


def _join(parts: list[str], output: str, title: str) -> int:
    """In the child: the parts one after another in one PDF."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for part in parts:
        writer.append(part)
    writer.add_metadata({"/Title": title})
    with open(output, "wb") as f:
        writer.write(f)
    return len(writer.pages)


class _Part:
    def __init__(self, future: Future, output: Path):
        self.future, self.output = future, output

    def result(self) -> tuple[Path, int]:
        return self.output, self.future.result()


class Typesetter:
    """Compiles parts one after another in throw-away processes; returns each part's pages."""

    def __init__(self, template: Path, workdir: Path):
        self.template = workdir / template.name
        self.template.write_text(template.read_text(encoding="utf-8"), encoding="utf-8")
        self.workdir = workdir
        self.pool = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn"), max_tasks_per_child=1
        )  # one child at a time: with the caller, at most two processes use memory

    def prepare(self, name: str, data: dict) -> Path:
        """Write a part's data (while the previous part is being set)."""
        data_path = self.workdir / f"{name}.json"
        data_path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        return data_path

    def start(self, data_path: Path, first_page: int) -> Future:
        """Set a prepared part in a child; the future's result is (PDF path, pages)."""
        output = data_path.with_suffix(".pdf")
        future = self.pool.submit(
            _compile, str(self.template), str(data_path), str(output), first_page
        )
        return _Part(future, output)

    def html(self, html: str, name: str) -> tuple[Path, int]:
        output = self.workdir / f"{name}.pdf"
        return output, self.pool.submit(_html_to_pdf, html, str(output)).result()

    def join(self, parts: list[Path], output: Path, title: str) -> int:
        return self.pool.submit(_join, [str(p) for p in parts], str(output), title).result()

    def close(self) -> None:
        self.pool.shutdown()

    def __enter__(self) -> Typesetter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
