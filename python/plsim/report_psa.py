"""The report page of a probabilistic sensitivity analysis (`plsim compare --uncertainty ... --out DIR`,
then `plsim report DIR`): what was drawn, each strategy's cost and effect with their intervals over the
draws, every incremental comparison, the acceptability curves, EVPI and EVPPI, and the plots the
analysis wrote, in the same page as every other report (plsim.report_page), every figure formatted."""
from __future__ import annotations

import base64
from pathlib import Path
from typing import Optional

import pandas as pd

from . import formats
from . import report_page as page
from .safe_io import SCENARIO_MAX_BYTES, FileRefused, parse_json, read_bounded, read_table, regular_file_size
from .version import __version__


def _csv(d: Path, name: str) -> Optional[pd.DataFrame]:
    """The PSA's table `name` in `d`, or None where this run did not write it."""
    path = d / name
    return read_table(path) if path.is_file() else None


def _image(d: Path, name: str, title: str, caption: str) -> list:
    path = d / name
    if not path.is_file():
        return []
    regular_file_size(path, name)
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return [f"<figure><img alt='{page.escape(title)}' src='data:image/png;base64,{data}'>"
            f"<figcaption>{page.escape(caption)}</figcaption></figure>"]


def _strategies(s: pd.DataFrame, interval: str) -> str:
    def b(r, column, unit):
        return formats.band(r.get(column), r.get(f"{column}_q05"), r.get(f"{column}_q95"), unit)

    def per_sd(r):
        # More than 5% of the draws gain no SD-students: the ratio's upper end is unbounded, not missing.
        if r.get("cost_per_sd_q95") == float("inf") and formats.money(r.get("cost_per_sd_q05")) != formats.NOT_AVAILABLE:
            return (f"{formats.money(r.get('cost_per_sd'))} ({formats.money(r.get('cost_per_sd_q05'))} to ∞: some "
                    f"draws gain no SD-students)")
        return b(r, "cost_per_sd", "money")

    rows = [[str(r["scenario"]), b(r, "cost", "money"), b(r, "effect", "sd"), b(r, "students_reached", "count"),
             b(r, "sd_students", "count"), per_sd(r),
             formats.share(r.get("probability_effect_positive"))] for r in s.to_dict("records")]
    return page.table_html(rows, ["strategy", "cost, whole run", "effect (PL cohort, last year)", "students reached",
                                  "SD-students gained", "cost per SD-student", "probability the effect is positive"],
                           f"Each strategy: mean and, in brackets, {interval}")


def _incremental(c: pd.DataFrame, wtps: list) -> str:
    rows = []
    for r in c.to_dict("records"):
        rows.append([str(r["comparison"]),
                     formats.band(r.get("d_cost"), r.get("d_cost_q05"), r.get("d_cost_q95"), "money"),
                     formats.band(r.get("d_effect"), r.get("d_effect_q05"), r.get("d_effect_q95"), "sd"),
                     formats.band(r.get("d_sd_students"), r.get("d_sd_students_q05"), r.get("d_sd_students_q95"),
                                  "count"),
                     formats.money(r.get("icer")), formats.share(r.get("probability_more_effective")),
                     formats.share(r.get("probability_cheaper"))]
                    + [formats.share(r.get(f"probability_better_at_{w:g}")) for w in wtps])
    return page.table_html(rows, ["comparison (first minus second)", "extra cost", "extra effect",
                                  "extra SD-students", "ICER (US$ per SD-student)", "probability more effective",
                                  "probability cheaper"]
                           + [f"probability better at {formats.money(w)} per SD-student" for w in wtps],
                           "Every pair of strategies: differences on the same draws and seeds")


def psa_page(d: Path) -> str:
    """The HTML page of the PSA directory `d` (psa.json and the tables and plots beside it)."""
    meta = parse_json(read_bounded(d / "psa.json", limit=SCENARIO_MAX_BYTES, what="psa.json"), str(d / "psa.json"),
                      what="psa.json")
    if not isinstance(meta, dict):
        raise FileRefused(f"{d / 'psa.json'}: not the psa.json of plsim compare --uncertainty (not an object)")
    names = [str(s) for s in meta.get("strategies", [])]
    wtps = [float(w) for w in meta.get("wtp", [])]
    interval = str(meta.get("interval", "the 90% interval over the parameter draws"))
    intro = [f"{len(names)} strategies ({', '.join(names)}) under {meta.get('draws')} parameter draws from "
             f"{meta.get('uncertainty')}, on seeds {meta.get('seeds')} in every draw (common random numbers: a draw "
             f"and a seed give every strategy the same students, teachers and schools).",
             f"Intervals are {interval}: they hold what is not known about the parameters (the priors), not only "
             f"the noise of seeds. Willingness to pay is in US$ per SD-student gained (one student one SD higher)."]
    top = []
    if (s := _csv(d, "psa_summary.csv")) is not None:
        top.append(_strategies(s, interval))
    which = page.Section("which", "Which strategy is best, and how sure can we be?",
                         "The cost-effectiveness plane shows each draw's cost and SD-students gained; the acceptability "
                         "curves the probability that each strategy has the highest net benefit at each willingness "
                         "to pay.")
    which.html += _image(d, "ce_plane.png", "Cost-effectiveness plane", "Each strategy's cost and SD-students gained, "
                         "one point per parameter draw.")
    which.html += _image(d, "ceac.png", "Acceptability curves", "Probability each strategy is best, by willingness "
                         "to pay per SD-student.")
    if (c := _csv(d, "ceac.csv")) is not None and wtps:
        at = c[c["wtp"].isin(wtps)]
        rows = [[str(name)] + [formats.share(g.loc[g["wtp"] == w, "probability_best"].sum()) for w in wtps]
                for name, g in at.groupby("scenario", sort=False)]
        which.html.append(page.table_html(rows, ["strategy"] + [f"at {formats.money(w)}" for w in wtps],
                                          "Probability of being the best strategy"))
    pairs = page.Section("pairs", "How do the strategies compare pair by pair?",
                         "Differences computed draw by draw, so shared uncertainty cancels.")
    if (inc := _csv(d, "incremental.csv")) is not None:
        pairs.html.append(_incremental(inc, wtps))
    value = page.Section("value", "What would it be worth to learn more before deciding?",
                         "EVPI: the expected gain from deciding with every parameter known; EVPPI: from knowing one "
                         "group of parameters (regression on the draws; a fit that does not generalize is flagged).")
    value.html += _image(d, "evppi.png", "Value of information by parameter group", "EVPPI by parameter group.")
    if (e := _csv(d, "evpi.csv")) is not None and wtps:
        rows = [[formats.money(r["wtp"]), formats.money(r["evpi"]), formats.money(r.get("evpi_per_year")),
                 str(r.get("choice", formats.NOT_AVAILABLE))] for r in e[e["wtp"].isin(wtps)].to_dict("records")]
        value.html.append(page.table_html(rows, ["willingness to pay per SD-student", "EVPI, the decision",
                                                 "EVPI a year", "the choice without more information"],
                                          "Expected value of perfect information"))
    if (v := _csv(d, "evppi.csv")) is not None:
        rows = [[formats.money(r["wtp"]), str(r["group"]), formats.money(r["evppi"]),
                 formats.share(r.get("share_of_evpi")), formats.number(r.get("r2_loo_sd_students")),
                 "yes" if str(r.get("overfit")).lower() == "true" else "no"] for r in v.to_dict("records")]
        value.html.append(page.table_html(rows, ["willingness to pay", "parameter group", "EVPPI", "share of EVPI",
                                                 "leave-one-out R² (SD-students)", "fit flagged"],
                                          "Expected value of partial perfect information by parameter group"))
    footer = f"Written by plsim {__version__} from {d}. Intervals: {interval}."
    return page.render(f"plsim probabilistic sensitivity analysis: {', '.join(names)}", intro, top,
                       [which, pairs, value], footer)
