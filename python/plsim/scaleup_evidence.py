"""The scale-up evidence of docs/model.md and the README, from ensembles of the shipped scenarios:
reach against the 1% / 10% targets under waivers and system change, teacher turnover by poverty,
school-wide adoption and fidelity by year 5, charter against district schools in regional_partner
(under waivers, then system change), what coaching buys, and a plausibility check against the one
reported success (a district with almost a third of its students in new models after 5+ years).

    python -m plsim.scaleup_evidence --seeds 5 --out docs/figures

prints the tables (markdown) and writes scaleup_evidence.md and scaleup_evidence.png to --out.
"""
from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from .scenarios import load_scenario
from .sim import Sim

def _doc(name: str) -> dict:
    """A shipped scenario as written, to vary."""
    return load_scenario(name).document


def _weighted_effect(sim: Sim, subgroup: str, year: int) -> float:
    g = sim.subgroups
    g = g[(g.subgroup == subgroup) & (g.year == year)].dropna(subset=["effect_true_sd"])
    return float(np.average(g["effect_true_sd"], weights=g["n"])) if len(g) else float("nan")


def run_one(doc: dict, seed: int, threads: int) -> dict:
    """The figures of one run: reach, schools by stage, fidelity by type, turnover, effects."""
    sim = Sim(doc, seed=seed, threads=threads).run()
    r, t, f = sim.rollout_by_year, sim.teachers_by_year, sim.fidelity_by_year
    last = int(r["year"].max())
    fl = f[f.year == last]
    out = {"seed": seed, "reach": r["share_students_pl"].to_numpy(), "target": r["target_share"].to_numpy(),
           "schools_pl": int(r["schools_pl"].iloc[-1]), "schools_schoolwide": int(r["schools_schoolwide"].iloc[-1]),
           "dropped": int(r["dropped"].sum()), "fidelity": float(np.average(fl["mean"], weights=fl["classrooms"])) if len(fl) else np.nan,
           "fidelity_by_year": f.groupby("year").apply(lambda d: np.average(d["mean"], weights=d["classrooms"])).to_numpy(),
           "turnover": float(t["turnover"].mean()), "turnover_high": float(t["turnover_high_poverty"].mean()),
           "turnover_low": float(t["turnover_low_poverty"].mean()), "skill": float(t["mean_pl_skill"].iloc[-1]),
           "burnout": float(t["mean_burnout"].mean()), "effect_cohort": _weighted_effect(sim, "pl_cohort", last),
           "effect_first": _weighted_effect(sim, "pl_cohort", 1)}  # years count from 1
    for kind in ("charter", "district"):
        fk = f[f.school_type == kind]
        out[f"fidelity_{kind}"] = float(np.average(fk["mean"], weights=fk["classrooms"])) if len(fk) else np.nan
        out[f"effect_{kind}"] = _weighted_effect(sim, kind, last)
    return out


def ensemble(doc: dict, seeds, threads: int) -> pd.DataFrame:
    return pd.DataFrame([run_one(doc, s, threads) for s in seeds])


def _band(values) -> str:
    v = np.asarray(values, dtype=float)
    return f"{np.nanmean(v):.3f} [{np.nanmin(v):.3f}, {np.nanmax(v):.3f}]"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m plsim.scaleup_evidence", description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=5, help="seeds per ensemble (default 5)")
    ap.add_argument("--threads", type=int, default=0, help="threads per run (default: all cores)")
    ap.add_argument("--out", help="directory for scaleup_evidence.md and scaleup_evidence.png")
    args = ap.parse_args(argv)
    if args.seeds < 1:
        ap.error(f"argument --seeds: at least 1 (got {args.seeds})")
    seeds = list(range(1, args.seeds + 1))
    lines = [f"Ensembles of {args.seeds} seeds (1..{args.seeds}); mean [min, max] over seeds.", ""]

    waivers, change = _doc("scale_up_district"), _doc("scale_up_system_change")
    w, c = ensemble(waivers, seeds, args.threads), ensemble(change, seeds, args.threads)
    years = len(w["reach"].iloc[0])
    lines += ["### Reach: share of the district's students in PL classrooms, by year", "",
              "| year | target | waivers | system change |", "|---:|---:|---:|---:|"]
    for y in range(years):
        lines.append(f"| {y + 1} | {w['target'].iloc[0][y]:.3f} | {_band([r[y] for r in w['reach']])} | "
                     f"{_band([r[y] for r in c['reach']])} |")
    lines += ["", "### Year 5 and teachers", "", "| figure | waivers | system change |", "|---|---:|---:|"]
    for key, label in (("schools_pl", "PL schools"), ("schools_schoolwide", "school-wide PL schools"),
                       ("dropped", "schools that dropped the model (5 years)"),
                       ("fidelity", "delivered fidelity in PL classrooms, year 5"),
                       ("skill", "PL skill of practising teachers, year 5"),
                       ("effect_cohort", "true effect on the PL cohort, year 5 (SD)"),
                       ("turnover", "teacher turnover"), ("turnover_high", "turnover, high-poverty schools"),
                       ("turnover_low", "turnover, other schools"), ("burnout", "mean burnout")):
        lines.append(f"| {label} | {_band(w[key])} | {_band(c[key])} |")
    ratio = w["turnover_high"] / w["turnover_low"]
    lines.append(f"| turnover ratio high / other poverty | {_band(ratio)} | "
                 f"{_band(c['turnover_high'] / c['turnover_low'])} |")

    partner = _doc("regional_partner")
    partner_change = copy.deepcopy(partner)
    partner_change["districts"][0]["central_office"]["mode"] = "system_change"
    pw, pc = ensemble(partner, seeds, args.threads), ensemble(partner_change, seeds, args.threads)
    lines += ["", "### regional_partner: charter against district schools with the same inputs", "",
              "| figure | waivers | system change |", "|---|---:|---:|"]
    for key, label in (("fidelity_charter", "fidelity, charter"), ("fidelity_district", "fidelity, district"),
                       ("effect_charter", "effect year 5, charter schools (SD)"),
                       ("effect_district", "effect year 5, district schools (SD)")):
        lines.append(f"| {label} | {_band(pw[key])} | {_band(pc[key])} |")
    lines.append(f"| fidelity gap charter - district | {_band(pw['fidelity_charter'] - pw['fidelity_district'])} | "
                 f"{_band(pc['fidelity_charter'] - pc['fidelity_district'])} |")
    lines.append(f"| effect gap charter - district | {_band(pw['effect_charter'] - pw['effect_district'])} | "
                 f"{_band(pc['effect_charter'] - pc['effect_district'])} |")

    lines += ["", "### What coaching buys (scale_up_district, waivers)", "",
              "| coaches (caseload 20) | PL skill, year 5 | fidelity, year 5 | effect on the PL cohort, year 5 (SD) |",
              "|---:|---:|---:|---:|"]
    coaching = {}
    for coaches in (0, 8, 24):
        doc = copy.deepcopy(waivers)
        doc["districts"][0]["central_office"]["coaches"] = coaches
        e = w if coaches == 8 else ensemble(doc, seeds, args.threads)
        coaching[coaches] = e
        lines.append(f"| {coaches} | {_band(e['skill'])} | {_band(e['fidelity'])} | {_band(e['effect_cohort'])} |")

    # Coaching's achievement effect at the small trials' caseload and at a large rollout's (every
    # practising teacher of regional_partner coached), against no coaching: targets.json coaching_effect.
    doses = {}
    for caseload in (0, 10, 20):
        doc = copy.deepcopy(partner)
        doc["districts"][0]["central_office"].update({"coaches": 100 if caseload else 0, "coach_caseload": caseload or 20})
        doses[caseload] = ensemble(doc, seeds, args.threads)
    added = {c: doses[c]["effect_first"] - doses[0]["effect_first"] for c in (10, 20)}
    added_last = {c: doses[c]["effect_cohort"] - doses[0]["effect_cohort"] for c in (10, 20)}
    lines += ["", "### Coaching's achievement effect: small trials against a large rollout (regional_partner)", "",
              "| | caseload 10 (small trials, full dose) | caseload 20 (large rollout, half dose) | ratio |",
              "|---|---:|---:|---:|",
              f"| added effect on the PL cohort, year 1 (SD) | {_band(added[10])} | {_band(added[20])} | "
              f"{_band(added[20] / added[10])} |",
              f"| added effect on the PL cohort, year 5 (SD) | {_band(added_last[10])} | {_band(added_last[20])} | "
              f"{_band(added_last[20] / added_last[10])} |"]

    # The one reported success: motivated leaders first, iteration, a menu of proven models, over 7 years.
    success = copy.deepcopy(change)
    success["years"] = 7
    success["districts"][0]["rollout"].update({
        "targets": [{"year": 2, "share": 0.02}, {"year": 7, "share": 0.33}], "max_new_schools_per_year": 12,
        "waves": [{"from_year": 1, "rule": "volunteers"}, {"from_year": 3, "rule": "readiness"}]})
    s = ensemble(success, seeds, args.threads)
    lines += ["", "### Plausibility: a district aiming at a third of its students by year 7", "",
              "System change, knowledge management (a menu of proven models), volunteers first; McKinsey reports "
              "almost a third of students in new models after more than five years.", "",
              "| year | target | reach |", "|---:|---:|---:|"]
    for y in range(7):
        lines.append(f"| {y + 1} | {s['target'].iloc[0][y]:.3f} | {_band([r[y] for r in s['reach']])} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "scaleup_evidence.md").write_text(text)
        _plot(w, c, pw, pc, coaching, out / "scaleup_evidence.png")
        print(f"wrote {out / 'scaleup_evidence.md'}, {out / 'scaleup_evidence.png'}")
    return 0


def _plot(w, c, pw, pc, coaching, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(14, 4))
    years = np.arange(1, len(w["reach"].iloc[0]) + 1)
    for frame, label, color in ((w, "waivers", "tab:orange"), (c, "system change", "tab:blue")):
        reach = np.vstack(frame["reach"])
        ax[0].fill_between(years, reach.min(0), reach.max(0), color=color, alpha=0.2)
        ax[0].plot(years, reach.mean(0), color=color, label=label)
        fid = np.vstack(frame["fidelity_by_year"])
        ax[1].fill_between(years, fid.min(0), fid.max(0), color=color, alpha=0.2)
        ax[1].plot(years, fid.mean(0), color=color, label=label)
    ax[0].plot(years, w["target"].iloc[0], "k--", label="target")
    ax[0].set(title="Reach: students in PL classrooms", xlabel="year", ylabel="share of the district")
    ax[1].set(title="Delivered fidelity in PL classrooms", xlabel="year", ylim=(0, 1))
    ax[0].legend(), ax[1].legend()
    ax[0].set_xticks(years), ax[1].set_xticks(years)
    labels = ["charter\nwaivers", "district\nwaivers", "charter\nsystem\nchange", "district\nsystem\nchange"]
    values = [pw["effect_charter"], pw["effect_district"], pc["effect_charter"], pc["effect_district"]]
    ax[2].bar(labels, [np.mean(v) for v in values], yerr=[np.std(v) for v in values],
              color=["tab:green", "tab:gray", "tab:green", "tab:gray"])
    ax[2].set(title="regional_partner: year-5 effect (SD)", ylabel="true effect, student SD")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    sys.exit(main())
