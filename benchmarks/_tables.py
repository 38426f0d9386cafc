"""The one Markdown table renderer and the one results writer of every benchmark.

``table(header, rows)`` renders a Markdown table; ``write(name, markdown, payload)`` writes
``benchmarks/results/<name>.md`` and ``.json`` (the payload gains the machine record of ``_machine.machine()``
unless it carries one). ``results_name(name, quick)`` is where a quick run's files go (``results/quick/``).
No benchmark builds a table row by hand (``tests/engine/test_benchmark_tables.py`` scans for it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Optional, Sequence, Union

RESULTS = Path(__file__).resolve().parent / "results"
QUICK = "quick"  # the folder under results/ a quick run writes to: it never overwrites a full run's files

_ALIGN = {"": "---", "l": ":---", "r": "---:", "c": ":---:"}

Format = Union[None, str, Callable[[Any], str]]


def results_name(name: str, quick: bool) -> str:
    """The results name (``results/<this>.md``) of benchmark ``name`` in this mode."""
    return f"{QUICK}/{name}" if quick else name


def _cell(value: Any, fmt: Format) -> str:
    if callable(fmt):
        text = fmt(value)
    elif fmt and not isinstance(value, str):
        text = format(value, fmt)
    else:
        text = str(value)
    return text.replace("\n", " ").replace("|", "\\|")


def row(cells: Iterable[Any], formats: Optional[Sequence[Format]] = None) -> str:
    """One table line; a ``|`` inside a cell is escaped so it cannot split the cell."""
    cells = list(cells)
    fmts = list(formats) if formats is not None else [None] * len(cells)
    if len(fmts) != len(cells):
        raise ValueError(f"{len(cells)} cells but {len(fmts)} formats")
    return "| " + " | ".join(_cell(c, f) for c, f in zip(cells, fmts)) + " |"


def table(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    formats: Optional[Sequence[Format]] = None,
    align: str = "",
) -> str:
    """A Markdown table (no trailing newline): header, separator, one line per row.

    Cells are strings the caller formatted, or values formatted by ``formats`` (one per column: a format spec such
    as ``".4f"`` applied to non-string values, a callable, or None for ``str``). ``align`` has one letter per column
    (``l``, ``r``, ``c`` or a space for none); empty means no alignment markers.
    """
    n = len(header)
    marks = align.ljust(n) if align else " " * n
    if len(marks) != n:
        raise ValueError(f"{n} columns but {len(marks)} alignment letters")
    lines = [row(header), "|" + "".join(_ALIGN[a.strip()] + "|" for a in marks)]
    for r in rows:
        r = list(r)
        if len(r) != n:
            raise ValueError(f"a row of {len(r)} cells in a table of {n} columns: {r!r}")
        lines.append(row(r, formats))
    return "\n".join(lines)


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def has_machine(payload: Dict[str, Any]) -> bool:
    """Whether a payload carries a machine record (at its top or in its ``meta``)."""
    meta = payload.get("meta")
    return "machine" in payload or (isinstance(meta, dict) and ("machine" in meta or "host" in meta))


def write(
    name: str,
    markdown: str,
    payload: Optional[Dict[str, Any]],
    *,
    folder: Path = RESULTS,
    with_torch: bool = True,
) -> Path:
    """Write ``<folder>/<name>.md`` (the text as given) and ``<folder>/<name>.json``; the .md path.

    A payload without a machine record gets ``machine`` from ``_machine.machine(with_torch)``. ``payload=None``
    writes the Markdown only: for a page rendered from other results files, which measures nothing itself.
    """
    md = Path(folder) / f"{name}.md"
    md.parent.mkdir(parents=True, exist_ok=True)
    if payload is not None:
        if not has_machine(payload):
            from _machine import machine

            payload = {"machine": machine(with_torch), **payload}
        md.with_suffix(".json").write_text(json.dumps(payload, indent=1, default=_jsonable) + "\n")
    md.write_text(markdown)
    print(f"wrote {md}" + (" and .json" if payload is not None else ""), flush=True)
    return md
