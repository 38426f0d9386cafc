"""The numbers the help panels, tooltips and option labels state come from the engine's tables (issue #16).

Each builder is given a changed copy of its table: the text must follow it (new numbers in, old ones out),
and the registered algorithms must show what the builders make of the engine's own tables.
"""

import copy

from qgis.core import QgsApplication

OTHER_DDICA = {
    "paper": dict(
        hidden_units=(333,) * 5, n_restarts=777, batch_size=999, n_epochs=7, learning_rate=2e-5, kernel_width=0.37
    ),
    "default": dict(
        hidden_units=(55,) * 3,
        n_restarts=11,
        n_steps=222,
        batch_size=66,
        learning_rate=4e-3,
        keep_fraction=0.5,
        kernel_width=0.29,
        purify=0.03,
    ),
    "authors_code": dict(hidden_units=(333,) * 5 + (44,)),
}
OTHER_BUDDIP = {
    "paper": dict(alpha1=0.2, alpha2=0.03, alpha3=2.0, n_iter=4321, learning_rate=5e-5),
    "authors_code": dict(alpha1=1.5, alpha2=2.5, alpha3=3.5, n_iter=12345, learning_rate=6e-3),
    "default": dict(purify=0.08, n_iter=234, learning_rate=7e-3),
}
OTHER_UNDIP = {"default": dict(n_iter=765, depth=4), "paper": dict(n_iter=2345, depth=2, channels=128)}
OTHER_ICA = {
    "default": dict(alpha=1.3, kernel_width=0.45, batch_size=96, n_steps=321, n_restarts=6, holdout_fraction=0.3),
    "paper": dict(
        hidden_units=(32,) * 5,
        alpha=0.6,
        kernel_width=0.2,
        batch_size=1500,
        n_restarts=2,
        learning_rate=3e-5,
        n_steps=150,
    ),
}


def _changed(table, changes):
    table = copy.deepcopy(table)
    for variant, values in changes.items():
        table[variant].update(values)
    return table


def _alg(name):
    return QgsApplication.processingRegistry().algorithmById(f"deepunmix:{name}")


def _variant_order(alg):
    from deepunmix.engine.core.params import choices

    return choices(alg.estimator_class(), "variant")


def _follows(text, new, old):
    missing = [s for s in new if s not in text]
    stale = [s for s in old if s in text]
    assert not missing and not stale, (missing, stale)


def test_numbers_are_written_as_the_help_writes_them():
    from deepunmix.algorithms import help_numbers as h

    assert [h.count(n) for n in (32, 4500, 24000, 100000)] == ["32", "4500", "24 000", "100 000"]
    assert [h.sci(x) for x in (1e-4, 1e-3, 3e-3, 2.5e-5)] == ["1e-4", "1e-3", "3e-3", "2.5e-5"]
    assert [h.number(x) for x in (0.1, 0.01, 1.0, 1.01, 0.1584)] == ["0.1", "0.01", "1", "1.01", "0.1584"]
    assert (h.percent(0.05), h.percent(0.2), h.share(0.25), h.share(0.3)) == ("5 %", "20 %", "quarter", "30 %")
    assert (h.word(6), h.ordinal(4), h.plural(1, "run", in_words=True), h.plural(4, "restart")) == (
        "six",
        "fourth",
        "one run",
        "4 restarts",
    )
    assert (h.widths((4096,) * 6), h.widths((256, 512, 1024))) == ("4096", "256 / 512 / 1024")
    assert (h.kernel_width(None), h.kernel_width("silverman", "Silverman"), h.kernel_width(0.1)) == (
        "Silverman's rule",
        "Silverman",
        "0.1",
    )


def test_ddica_help_and_tooltips_follow_the_variant_table(deepunmix):
    from deepunmix.algorithms import ddica, tooltips
    from deepunmix.engine.ddica.unmixing import VARIANT_SETTINGS

    other = _changed(VARIANT_SETTINGS, OTHER_DDICA)
    _follows(
        ddica.help_text(other, alpha=1.5),
        [
            "five hidden ReLU layers of 333 units",
            "alpha 1.5, kernel width 0.37, Adam learning rate 2e-5, shuffled mini-batches of 999 pixels for 7 epochs",
            "777 restarts, the TC",
            "777 restarts of 333-wide networks",
            "3 hidden layers of 55 units",
            "kernel width 0.29, batches of 66 pixels",
            "learning rate 4e-3, 222 steps, 11 restarts;",
            "the half of restarts",
            "map's 3 % purest pixels",
            "a seventh, 44-wide BatchNorm layer",
        ],
        ["4096", "1000", "six", "1.01", "1e-4", "1e-3", "128", "32 restarts", "100 steps", "quarter", "Silverman"],
    )
    _follows(
        str(tooltips.ddica_tooltips(other)) + ddica.kernel_width_label(other) + tooltips.ddica_refine_tooltip(0.07),
        ["(55 default, 333 paper)", "(0.29 for default, 0.37 for paper)", "(0 = the variant's: 0.29 or 0.37)", "(7 %"],
        ["128", "4096", "Silverman", "5 %"],
    )
    alg = _alg("ddica")
    assert alg.details().startswith(ddica.help_text())
    for key, text in tooltips.ddica_tooltips().items():
        assert alg.parameterDefinition(key).help() == text
    assert alg.parameterDefinition("KERNEL_WIDTH").description() == ddica.kernel_width_label()
    assert alg.parameterDefinition("REFINE").help() == tooltips.ddica_refine_tooltip(ddica.REFINE_PURIFY)


def test_ddica_help_states_the_engine_values(deepunmix):
    """Read against the engine directly, as a reader would check the panel."""
    from deepunmix.engine.ddica.unmixing import DDICA, VARIANT_SETTINGS

    paper, default = VARIANT_SETTINGS["paper"], VARIANT_SETTINGS["default"]
    text = _alg("ddica").details()
    for fact in (
        f"hidden ReLU layers of {paper['hidden_units'][0]} units",
        f"alpha {DDICA().alpha}, kernel width {paper['kernel_width']}",
        f"mini-batches of {paper['batch_size']} pixels for {paper['n_epochs']} epochs",
        f"{paper['n_restarts']} restarts of {paper['hidden_units'][0]}-wide networks",
        f"{len(default['hidden_units'])} hidden layers of {default['hidden_units'][0]} units",
        f"batches of {default['batch_size']} pixels",
        f"{default['n_steps']} steps, {default['n_restarts']} restarts",
    ):
        assert fact in text, fact


def test_buddip_help_and_labels_follow_the_settings(deepunmix):
    from deepunmix.algorithms import buddip
    from deepunmix.algorithms.help_numbers import number
    from deepunmix.engine.dip.buddip import PAPER_JASPER, SETTINGS

    other = _changed(SETTINGS, OTHER_BUDDIP)
    jasper = dict(PAPER_JASPER, alpha1=0.4, alpha2=0.6, alpha3=0.7, n_iter=11111)
    _follows(
        buddip.help_text(other, jasper, (100, 200, 300)),
        [
            "weights 0.2 / 0.03 / 2, Adam 5e-5, 4321 iterations",
            "used 0.4 / 0.6 / 0.7 and 11 111",
            "Layer widths (100 / 200 / 300)",
            "weights 1.5 / 2.5 / 3.5, Adam 6e-3, 12 345 iterations",
            "its 8 % purest pixels",
            "234 iterations at 7e-3",
        ],
        ["4500", "24 000", "1e-4", "1e-3", "3e-3", "200 iterations", "5 %", "256"],
    )
    _follows(
        str(buddip.variant_labels(other)),
        ["0.2/0.03/2, lr 5e-5, 4321 iterations", "1.5/2.5/3.5, lr 6e-3, 12 345 iterations"],
        ["4500", "24 000", "1e-4"],
    )
    alg = _alg("buddip")
    assert alg.details().startswith(buddip.help_text())
    labels = buddip.variant_labels()
    assert alg.parameterDefinition("VARIANT").options() == [labels[v] for v in _variant_order(alg)]
    purify = f"({number(SETTINGS['paper']['purify'])} = paper)"
    assert purify in alg.parameterDefinition("PURIFY").description()


def test_undip_help_tooltip_and_labels_follow_the_settings(deepunmix):
    from deepunmix.algorithms import tooltips, undip
    from deepunmix.engine.dip.undip import SETTINGS

    other = _changed(SETTINGS, OTHER_UNDIP)
    _follows(
        undip.help_text(other),
        ["765 iterations of a small four-level network", "2345 iterations of a two-level network with 128 channels"],
        ["500", "3000", "256", "one-level", "three-level"],
    )
    _follows(
        str(undip.variant_labels(other)) + tooltips.undip_tooltips(other)["VARIANT"],
        ["Light (CPU): 765 iterations", "Paper (Rasti et al.): 2345 iterations, 128 channels", "(2345 iterations, 128"],
        ["500", "3000", "256"],
    )
    alg = _alg("undip")
    assert alg.details().startswith(undip.help_text())
    assert alg.parameterDefinition("VARIANT").help() == tooltips.undip_tooltips()["VARIANT"]
    labels = undip.variant_labels()
    assert alg.parameterDefinition("VARIANT").options() == [labels[v] for v in _variant_order(alg)]


def test_deep_ica_help_and_labels_follow_the_variants(deepunmix):
    from deepunmix.algorithms import ica
    from deepunmix.engine.ddica.ica import VARIANTS

    other = _changed(VARIANTS, OTHER_ICA)
    _follows(
        ica.help_text(other),
        [
            "alpha 1.3, 0.45 kernel width, batch 96, 321 steps, 6 restarts",
            "30 % of the pixels",
            "five ReLU layers (32 units) and a linear sixth layer",
            "alpha 0.6, kernel width 0.2, batch 1500, two runs",
            "Adam 3e-5, 150 steps",
            "1500 x 1500 matrix per component",
        ],
        ["2000", "0.75", "0.1584", "400 steps", "4 restarts", "20 %", "three ReLU", "fourth", "one run", "1e-4"],
    )
    _follows(str(ica.variant_labels(other)), ["alpha 0.6, batch 1500"], ["0.75", "2000"])
    alg = _alg("ica")
    assert alg.details().startswith(ica.help_text())
    labels = ica.variant_labels()
    assert alg.parameterDefinition("VARIANT").options() == [labels[v] for v in VARIANTS]


def test_counts_in_the_endmember_helps_are_the_engines(deepunmix):
    from deepunmix.algorithms.help_numbers import count
    from deepunmix.engine.core.params import N_ENDMEMBERS
    from deepunmix.engine.count.estimate import MAX_PIXELS

    estimate = _alg("estimate_n_endmembers").details()
    assert f"at most {count(MAX_PIXELS)} valid pixels" in estimate
    assert f"the estimate (at least {N_ENDMEMBERS.left})" in estimate
    assert (
        f"At least {N_ENDMEMBERS.left} endmembers, at most the number of bands" in _alg("extract_endmembers").details()
    )


def test_ordinals_and_shares_read_right_for_any_value():
    from deepunmix.algorithms.help_numbers import ordinal, share

    assert [ordinal(n) for n in (4, 11, 12, 13, 21, 22, 23, 101, 111)] == [
        "fourth",
        "11th",
        "12th",
        "13th",
        "21st",
        "22nd",
        "23rd",
        "101st",
        "111th",
    ]
    assert (share(0.25), share(0.5), share(0.4)) == ("quarter", "half", "40 %")
