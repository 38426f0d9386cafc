"""The page behind an algorithm dialog's Help button, written from the algorithm itself (works offline):
its side-panel text, variant settings, parameters and outputs, and links to the bundled README."""

from __future__ import annotations

import hashlib
import html
import os
import re
import tempfile

from .engine_parameters import settings_table

PLUGIN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def help_folder() -> str:
    """A folder per user and per installed copy: two installs (profiles, versions) link their own README."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    install = hashlib.sha1(PLUGIN_DIR.encode("utf-8"), usedforsecurity=False).hexdigest()[:10]
    folder = os.path.join(tempfile.gettempdir(), f"deepunmix-help-{uid}-{install}")
    os.makedirs(folder, exist_ok=True)
    return folder


def homepage() -> str:
    import configparser

    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(os.path.join(PLUGIN_DIR, "metadata.txt"), encoding="utf-8")
    return cfg.get("general", "homepage", fallback="")


def _default(definition) -> str:
    value = definition.defaultValue()
    options = getattr(definition, "options", None)
    if options is not None and isinstance(value, int) and 0 <= value < len(options()):
        return options()[value]
    return "" if value is None else str(value)


def render(alg) -> str:
    e = html.escape
    text = re.sub(r"\n", "<br>", e(alg.shortHelpString() or ""))
    settings = variant_rows(alg)
    variants = "".join(
        "<tr>" + "".join(f"<{tag}>{e(cell)}</{tag}>" for cell in row) + "</tr>"
        for tag, row in zip(["th"] + ["td"] * len(settings), settings)
    )
    rows = []
    for d in alg.parameterDefinitions():
        advanced = bool(d.flags() & d.FlagAdvanced)
        rows.append(
            f"<tr><td>{e(d.description())}{' <i>(advanced)</i>' if advanced else ''}</td>"
            f"<td><code>{e(d.name())}</code></td><td>{e(_default(d))}</td><td>{e(d.help())}</td></tr>"
        )
    outputs = "".join(
        f"<tr><td>{e(o.description())}</td><td><code>{e(o.name())}</code></td></tr>" for o in alg.outputDefinitions()
    )
    readme = "file://" + os.path.join(PLUGIN_DIR, "README.md")
    docs = "file://" + os.path.join(PLUGIN_DIR, "docs", "algorithms.md")
    home = homepage()
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{e(alg.displayName())} - DeepUnmix help</title><style>body{{font-family:sans-serif;margin:1.5em;"
        "max-width:60em}table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:3px 8px;"
        "text-align:left;vertical-align:top}</style></head><body>"
        f"<h1>{e(alg.displayName())}</h1><p><i>{e(alg.shortDescription())}</i></p><p>{text}</p>"
        + (f"<h2>Variant settings</h2><table>{variants}</table>" if variants else "")
        + "<h2>Parameters</h2><table><tr><th>in the dialog</th><th>in scripts</th><th>default</th><th>what it does</th>"
        f"</tr>{''.join(rows)}</table>"
        f"<h2>Outputs</h2><table><tr><th>output</th><th>in scripts</th></tr>{outputs}</table>"
        '<h2>Scripting</h2><p><code>processing.run("' + e(alg.id()) + '", {...})</code> with the identifiers '
        "above; a standalone script must start QGIS and register the provider first (README, 'Running the "
        "algorithms').</p>"
        f"<p>More: the <a href='{e(readme)}'>README</a> and <a href='{e(docs)}'>docs/algorithms.md</a> bundled "
        "with the plugin"
        + (f" and the <a href='{e(home)}'>project's home page</a>" if home else "")
        + ".</p></body></html>"
    )


def variant_rows(alg) -> list:
    """The settings table of the algorithm's estimator (``[]`` without variants)."""
    estimator = getattr(alg, "ESTIMATOR", None)
    return settings_table(estimator) if estimator is not None else []


def markdown_table(rows) -> str:
    """``rows`` (a header first) as a Markdown table ("" for none)."""
    if not rows:
        return ""
    lines = ["| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in row) + " |" for row in rows]
    return "\n".join([lines[0], "|" + "---|" * len(rows[0]), *lines[1:]])


def markdown(algs) -> str:
    """docs/algorithms.md: every algorithm's side panel, variant settings and parameters (``scripts/build_docs.py``)."""
    parts = [
        "# DeepUnmix algorithms",
        "",
        "Written by `scripts/build_docs.py` from the algorithms themselves (the same text as each dialog's side "
        "panel and Help page); do not edit by hand.",
    ]
    for alg in algs:
        parts += ["", f"## {alg.displayName()} (`{alg.id()}`)", "", alg.shortHelpString()]
        table = markdown_table(variant_rows(alg))
        if table:
            parts += ["", "### Variant settings", "", table]
        params = [["in the dialog", "in scripts", "default", "what it does"]] + [
            [
                d.description() + (" *(advanced)*" if d.flags() & d.FlagAdvanced else ""),
                f"`{d.name()}`",
                _default(d),
                d.help(),
            ]
            for d in alg.parameterDefinitions()
        ]
        parts += ["", "### Parameters", "", markdown_table(params)]
    return "\n".join(parts) + "\n"


def settings_tables(algs) -> str:
    """The variant settings of every algorithm that has variants, as Markdown (README's block)."""
    parts = []
    for alg in algs:
        table = markdown_table(variant_rows(alg))
        if table:
            parts += [f"`{alg.id()}` (`{alg.ESTIMATOR.__name__}`):", "", table, ""]
    return "\n".join(parts)


def help_url(alg) -> str:
    """A file:// URL of the algorithm's help page, (re)written if its content changed."""
    from qgis.PyQt.QtCore import QUrl

    path = os.path.join(help_folder(), f"{alg.name()}.html")
    text = render(alg)
    try:
        with open(path, encoding="utf-8") as fh:
            current = fh.read()
    except OSError:
        current = None
    if current != text:
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    return QUrl.fromLocalFile(path).toString()
