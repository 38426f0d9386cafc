"""The numbers the estimators' docstrings state equal the settings tables and ``__init__`` defaults (issue #16)."""

import ast
import inspect
import re
import sys

import pytest

from deepunmix.engine.ddica.ica import DeepICA
from deepunmix.engine.ddica.unmixing import DDICA, VARIANT_SETTINGS
from deepunmix.engine.dip.buddip import BUDDIP, SETTINGS
from deepunmix.engine.dip.undip import SETTINGS as UNDIP_SETTINGS
from deepunmix.engine.dip.undip import UnDIP

WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight"}
SHARES = {0.25: "quarter", 0.5: "half"}


def _sci(x):
    mantissa, exponent = f"{x:.6e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def _grouped(n):
    return f"{n:,}".replace(",", " ") if n >= 10_000 else str(n)


def _prose(cls):
    return " ".join(cls.__doc__.split())


def _weights(s, sep="/"):
    return sep.join(f"{s[k]:g}" for k in ("alpha1", "alpha2", "alpha3"))


def _states(text, facts):
    missing = [f for f in facts if f not in text]
    assert not missing, missing


def _documented_defaults(cls):
    """(name, text) of every ``name : type, default=text`` line of the Parameters section."""
    doc = inspect.getdoc(cls)
    section = doc.split("Parameters\n----------\n", 1)[1].split("\n\nAttributes\n", 1)[0]
    for line in section.splitlines():
        match = re.match(r"^([\w, ]+) : .*?default=(.+)$", line)
        if not match:
            continue
        names = [n.strip() for n in match.group(1).split(",")]
        texts = [t.strip() for t in match.group(2).split(",")] if len(names) > 1 else [match.group(2).strip()]
        if len(texts) == 1:  # "alpha1, alpha2, alpha3 : float or None, default=None"
            texts *= len(names)
        yield from zip(names, texts)


def _value(text, module):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return getattr(module, text)  # a table named by the docstring, e.g. UNET_WIDTHS


@pytest.mark.parametrize("cls", [DDICA, BUDDIP, UnDIP, DeepICA], ids=lambda c: c.__name__)
def test_documented_defaults_are_the_signatures(cls):
    signature = inspect.signature(cls.__init__).parameters
    module = sys.modules[cls.__module__]
    documented = list(_documented_defaults(cls))
    assert len(documented) >= 5  # the section was read
    wrong = [
        (name, text, signature[name].default)
        for name, text in documented
        if _value(text, module) != signature[name].default
    ]
    assert wrong == []


def test_the_readme_states_the_variant_settings():
    """README.md's method table and DDICA section restate the variant tables: they must follow them."""
    from pathlib import Path

    readme = " ".join((Path(__file__).resolve().parents[2] / "README.md").read_text().split())
    bp, ba, bd = SETTINGS["paper"], SETTINGS["authors_code"], SETTINGS["default"]
    up, ul = UNDIP_SETTINGS["paper"], UNDIP_SETTINGS["default"]
    p = VARIANT_SETTINGS["paper"]
    _states(
        readme,
        [
            f"weights {_weights(bp)}, lr {_sci(bp['learning_rate'])}, {_grouped(bp['n_iter'])} iterations",
            f"{_weights(ba)}, lr {_sci(ba['learning_rate'])}, {_grouped(ba['n_iter'])} iterations",
            f"small residual networks, {bd['n_iter']} iterations",
            f"*light* (default, {ul['n_iter']} iterations",
            f"{up['n_iter']} iterations, {up['channels']} channels",
            f"the authors' {p['hidden_units'][0]} units with BatchNorm",
            f"α = {DDICA().alpha}, σ = {p['kernel_width']}, Adam {_sci(p['learning_rate'])}, shuffled mini-batches "
            f"of {p['batch_size']} pixels, T = {p['n_restarts']} restarts",
            f"{WORDS[len(p['hidden_units'])]} hidden ReLU layers",
        ],
    )
