"""The numbers the estimators' docstrings state equal the settings tables and ``__init__`` defaults (issue #16)."""

import ast
import inspect
import re
import sys

import pytest

from deepunmix.engine.ddica.clustering import nearest_units
from deepunmix.engine.ddica.ica import VARIANTS as ICA_VARIANTS
from deepunmix.engine.ddica.ica import DeepICA
from deepunmix.engine.ddica.unmixing import _WEIGHT_BUDGET_BYTES, DDICA, VARIANT_SETTINGS
from deepunmix.engine.dip.buddip import BUDDIP, PAPER_JASPER, SETTINGS, UNET_WIDTHS
from deepunmix.engine.dip.guidance import refine_guidance
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


def test_ddica_docstring_states_the_variant_settings():
    p, d = VARIANT_SETTINGS["paper"], VARIANT_SETTINGS["default"]
    _states(
        _prose(DDICA),
        [
            f"{WORDS[len(p['hidden_units'])].capitalize()} hidden ReLU layers of {p['hidden_units'][0]} units",
            f"α = {DDICA().alpha}, σ = {p['kernel_width']} fixed, Adam lr {_sci(p['learning_rate'])}",
            f"mini-batches of {p['batch_size']} pixels for {p['n_epochs']} epochs",
            f"T = {p['n_restarts']} restarts",
            f"mean of the {inspect.signature(nearest_units).parameters['n_nearest'].default} maps nearest",
            f"{len(d['hidden_units'])} x {d['hidden_units'][0]} hidden units",
            f"head scaled by {d['head_gain']}",
            f"batch {d['batch_size']} drawn with replacement, Adam {_sci(d['learning_rate'])}, {d['n_steps']} steps, "
            f"{d['n_restarts']} restarts",
            "every restart kept" if d["keep_fraction"] == 1 else f"the {SHARES[d['keep_fraction']]} of restarts",
            f"its map's {100 * d['purify']:g} % purest pixels + {d['expand']} expansion steps",
            f"Fitted weights over {_WEIGHT_BUDGET_BYTES / 2**30:g} GiB",
        ],
    )


def test_buddip_docstring_states_the_variant_settings():
    paper, authors, default = SETTINGS["paper"], SETTINGS["authors_code"], SETTINGS["default"]
    threshold = inspect.signature(refine_guidance).parameters["threshold"].default
    _states(
        _prose(BUDDIP),
        [
            f"U-Net widths ({'/'.join(map(str, UNET_WIDTHS))},",
            f"weights {_weights(paper)}, Adam {_sci(paper['learning_rate'])}, {_grouped(paper['n_iter'])} iterations",
            f":data:`PAPER_JASPER`: {_weights(PAPER_JASPER)}, {_grouped(PAPER_JASPER['n_iter'])})",
            f"weights {_weights(authors)}, Adam {_sci(authors['learning_rate'])}, {_grouped(authors['n_iter'])} "
            "iterations",
            f"Adam {_sci(default['learning_rate'])}, {default['n_iter']} iterations",
            f"(FCLS abundance >= {threshold})",
        ],
    )


def test_undip_and_deep_ica_docstrings_state_the_variant_settings():
    light, paper = UNDIP_SETTINGS["light"], UNDIP_SETTINGS["paper"]
    _states(
        _prose(UnDIP),
        [
            f"({paper['n_iter']} iterations, a {WORDS[paper['depth']]}-level skip-net with {paper['channels']} "
            f"channels and {paper['skip_channels']} skip channels",
            f"{light['n_iter']} iterations, {light['channels']} channels, depth {light['depth']}, input depth "
            f"{light['input_depth']}",
        ],
    )
    pnl, ica_paper = ICA_VARIANTS["pnl"], ICA_VARIANTS["paper"]
    _states(
        _prose(DeepICA),
        [
            f"(α {pnl['alpha']}, σ by Silverman's rule for the batch and output dimension, batch {pnl['batch_size']}, "
            f"{pnl['n_steps']} Adam steps at {_sci(pnl['learning_rate'])}, {pnl['n_restarts']} restarts)",
            f"α = {ica_paper['alpha']}, σ = {ica_paper['kernel_width']}, batch {ica_paper['batch_size']}, "
            f"{WORDS[ica_paper['n_restarts']]} run",
            f"widths ({ica_paper['hidden_units'][0]}), optimiser and learning rate (Adam "
            f"{_sci(ica_paper['learning_rate'])}",
            f"the step count ({ica_paper['n_steps']})",
        ],
    )


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
    assert len(documented) >= 10  # the section was read
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
    up, ul = UNDIP_SETTINGS["paper"], UNDIP_SETTINGS["light"]
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
