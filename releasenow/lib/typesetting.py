"""Typesetting long lists with Typst, each part in a fresh process.

Typst lays out 100,000 names in seconds where an HTML renderer needs many minutes, but it keeps
a cache of everything it laid out for the life of the process (about 45 MB per 5,000 names).
Each part is therefore compiled in a short-lived child process: memory stays flat, whatever the
size of the list. The child imports only Typst, never Django; data passes through JSON files,
inserted as text (never as markup), so a name cannot inject Typst code.
"""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def _compile(template: str, data: str, output: str) -> int:
    """In the child: compile `template` with `data` (a JSON file beside it) to `output`."""
    import typst
    from pypdf import PdfReader

    root = Path(data).parent
    pdf = typst.compile(
        template, root=str(root), sys_inputs={"data": Path(data).name}, ignore_system_fonts=False
    )
    Path(output).write_bytes(pdf)
    return len(PdfReader(output).pages)


class Typesetter:
    """Compiles parts one after another in throw-away processes; returns each part's pages."""

    def __init__(self, template: Path, workdir: Path):
        self.template = workdir / template.name
        self.template.write_text(template.read_text(encoding="utf-8"), encoding="utf-8")
        self.workdir = workdir
        self.pool = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn"), max_tasks_per_child=1
        )

    def part(self, name: str, data: dict) -> tuple[Path, int]:
        data_path = self.workdir / f"{name}.json"
        data_path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        output = self.workdir / f"{name}.pdf"
        pages = self.pool.submit(_compile, str(self.template), str(data_path), str(output))
        result = pages.result()
        data_path.unlink()
        return output, result

    def close(self) -> None:
        self.pool.shutdown()

    def __enter__(self) -> Typesetter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
