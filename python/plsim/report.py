"""Results people would rather look at: the plots of a run (`sim.plot()`), its HTML summary in Jupyter
(`Sim._repr_html_`), and `plsim report DIR`: one self-contained HTML page (plsim.report_page) of a run
directory (`plsim run --out`), a comparison (`plsim compare --out`) or an ensemble (`plsim ensemble
--out`), every year with its band, built from the same by-year figures (plsim.by_year)."""
from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from . import formats
from . import report_page as page
from .by_year import KEY_METRICS, SOURCES, bands, of_frames
from .report_psa import psa_page
from .safe_io import (FORMULA_STARTS, SCENARIO_MAX_BYTES, FileRefused, parse_json, read_bounded,
                      read_table)
from .version import __version__


def plot_levels(assessments: pd.DataFrame, ax):
    """Spring mean score by grade, in national SD units (0 is the national norm), one line per year."""
    spring = assessments[assessments["season"].astype(str) == "spring"]
    for (year, subject), g in spring.groupby(["year", spring["subject"].astype(str)]):
        sums = g.assign(w=g["mean_sd"] * g["n"]).groupby("grade")[["w", "n"]].sum()
        by = sums["w"] / sums["n"]
        ax.plot(by.index, by.values, marker="o", ms=3, label=f"{subject}, year {int(year)}")
    ax.axhline(0, color="k", lw=0.8, ls="--")
    ax.set(xlabel="grade (0 = K)", ylabel="spring mean (national SD)", title="scores against the national norms")
    ax.legend(fontsize=7)


def plot_effects(effects: pd.DataFrame, ax):
    """True effect by year on students in PL schools that year (n-weighted: the CLI's headline,
    effect_sd_pl_schools), with a 95% interval from the spread over schools (or districts)."""
    e = effects[effects["model"].astype(str) != "traditional"] if "model" in effects else effects
    if e.empty:
        ax.text(0.5, 0.5, "no personalized schools or no twin", ha="center", va="center", transform=ax.transAxes)
        return
    # Rows by school, or by district or nationally (plsim run --level): the interval is over those units.
    unit = [c for c in ("school_id", "district") if c in e][:1]
    for subject, g in e.groupby(e["subject"].astype(str)):
        sums = g.assign(w=g["effect_sd"] * g["n"]).groupby(["year"] + unit)[["w", "n"]].sum()
        per_school = sums["w"] / sums["n"]
        stats = per_school.groupby(level="year").agg(["std", "count"])
        by_year = sums.groupby(level="year").sum()
        students = by_year["w"] / by_year["n"]  # over students, as the headline: not the mean of the schools'
        half = 1.96 * stats["std"].fillna(0) / np.sqrt(stats["count"])
        ax.errorbar(students.index, students, yerr=half, marker="o", capsize=3, label=subject)
    ax.axhline(0, color="gray", lw=0.5)
    ax.set(xlabel="year", ylabel="true effect (SD)",
           title="effect on students in PL schools that year\n(as the CLI's headline; bars: 95% over schools)")
    ax.legend()


def plot_run(assessments: pd.DataFrame, effects: pd.DataFrame | None):
    """Scores and effects side by side (a matplotlib Figure). Closed in pyplot: a notebook shows it
    once, as the cell's value (an open figure would also be drawn by the inline backend: twice)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    plot_levels(assessments, axes[0])
    plot_effects(effects if effects is not None else pd.DataFrame(), axes[1])
    fig.tight_layout()
    plt.close(fig)
    return fig


def summary_html(summary: dict) -> str:
    """The headline of a run as an HTML table (Jupyter, reports)."""
    c = summary["counts"]
    rows = [("scenario", summary["scenario"]), ("seed", summary["seed"]),
            ("population", f"{c['students']:,} students, {c['schools']:,} schools, {c['districts']:,} districts"),
            ("simulated", f"{summary['years']} years, {summary['student_weeks']:,} student-weeks in {summary['seconds']:.2f} s")]
    for subject, h in (summary.get("headline") or {}).items():
        if "mean_sd" in h:
            rows.append((f"{subject}, spring of year {h['year']}", f"{h['mean_sd']:+.2f} SD, percentile {h['mean_percentile']:.1f}"))
    for subject, h in (summary.get("headline_effects") or {}).items():
        rows.append((f"effect on students in PL schools, {subject}, year {h['year']}",
                     f"{h['mean_effect_sd']:+.3f} SD for {h['students']:,} students"))
    ce = summary.get("cost_effectiveness") or {}
    if ce.get("cost_total"):
        rows.append(("cost", f"${ce['cost_total']:,.0f}; ${ce['cost_per_student_reached'] or 0:,.0f} per student reached"))
    body = "".join(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                   for k, v in rows)
    return f"<table>{body}</table>"


def write_report(directory) -> Path:
    """Writes DIRECTORY/report.html (plsim.report_page): of a run directory (`plsim run --out`:
    summary.json and its tables), a comparison (`plsim compare --out`: comparison_by_year.csv,
    comparison.csv), a probabilistic sensitivity analysis (`plsim compare --uncertainty --out`: psa.json,
    plsim.report_psa) or an ensemble (`plsim ensemble --out`: ensemble_by_year.csv). Returns its path."""
    import matplotlib
    matplotlib.use("Agg")

    d = Path(directory)
    if (d / "summary.json").is_file():
        page = _run_page(d)
    elif (d / "psa.json").is_file():
        page = psa_page(d)
    elif (d / "comparison_by_year.csv").is_file():
        page = _runs_page(d, "comparison")
    elif (d / "ensemble_by_year.csv").is_file():
        page = _runs_page(d, "ensemble")
    else:
        raise FileNotFoundError(f"report: {d} has no summary.json (write one with plsim run --out {d}), "
                                f"comparison_by_year.csv (plsim compare --out), psa.json (plsim compare "
                                f"--uncertainty --out) or ensemble_by_year.csv (plsim ensemble --out)")
    out = d / "report.html"
    out.write_text(page, encoding="utf-8")
    return out


def _unquoted(name) -> str:
    """A name as the user wrote it: the CSV writers quote a name a spreadsheet would run ('=...)."""
    text = str(name)
    return text[1:] if text.startswith("'") and text[1:2] in FORMULA_STARTS else text


def _runs_page(d: Path, kind: str) -> str:
    """The page of a comparison or an ensemble: its bands by year, and its table of the whole run."""
    table = read_table(d / f"{kind}_by_year.csv")
    missing = {"scenario", "year", "metric", "mean", "low", "high"} - set(table.columns)
    if missing:
        raise FileRefused(f"{d / f'{kind}_by_year.csv'}: not a table of plsim {'compare' if kind == 'comparison' else kind}"
                          f" (no column {sorted(missing)[0]})")
    table["scenario"] = table["scenario"].map(_unquoted)
    if "band" not in table:
        table["band"] = "band over seeds"
    names = list(pd.unique(table["scenario"]))
    band = str(table["band"].iloc[0]) if len(table) else ""
    seeds = int(table["n_seeds"].max()) if "n_seeds" in table and len(table) else 0
    if kind == "comparison":
        title = f"plsim comparison: {', '.join(names)}"
        intro = [f"{len(names)} scenarios run over the same {seeds} seeds (common random numbers: a seed draws the "
                 f"same students, teachers and schools in each, so differences are the strategies', not noise).",
                 f"Lines are means over the seeds; shaded bands are the {band}."]
        top = [page.glance(table, KEY_METRICS)]
        if (d / "comparison.csv").is_file():
            top.append(_comparison_table(read_table(d / "comparison.csv")))
    else:
        title = f"plsim ensemble: {', '.join(names)}"
        intro = [f"{seeds} runs of one scenario. Lines are means over the runs; shaded bands are the {band}."]
        top = [page.glance(table, KEY_METRICS)]
    footer = f"Written by plsim {__version__} from {d}. Years are counted from 1. Bands: {band}."
    return page.render(title, intro, top, page.sections(table), footer)


def _comparison_table(c: pd.DataFrame) -> str:
    """comparison.csv, formatted: costs in US$, effects in SD with their 95% interval over seeds."""
    def effect(r, subject):
        return formats.band(r.get(f"effect_{subject}_sd"), r.get(f"effect_{subject}_sd_lo"),
                            r.get(f"effect_{subject}_sd_hi"), "sd")

    rows = [[_unquoted(r["scenario"]), formats.money(r.get("cost_total")), formats.count(r.get("students_reached")),
             formats.money(r.get("cost_per_student_reached")), effect(r, "math"), effect(r, "reading"),
             formats.number(r.get("sd_per_100"), 4), formats.number(r.get("learning_per_1000"), 3),
             str(r.get("kraft_effect_class", "n/a")), str(r.get("kraft_cost_class", "n/a"))]
            for r in c.to_dict("records")]
    return page.table_html(rows, ["scenario", "cost, whole run", "students reached", "cost per student reached",
                                  "math effect, last year", "reading effect, last year", "SD per $100",
                                  "SD-student-years per $1,000", "effect class (Kraft)", "cost class (Kraft)"],
                           "The whole run (means over seeds; effects on the PL cohort with their 95% interval)")


def _read_summary(run: Path) -> dict:
    summary_path = run / "summary.json"
    summary = parse_json(read_bounded(summary_path, limit=SCENARIO_MAX_BYTES, what="summary.json"), str(summary_path),
                         what="summary.json")
    if not isinstance(summary, dict):
        raise FileRefused(f"{summary_path}: not the summary.json of a plsim run (not an object)")
    return summary


def _run_page(run: Path) -> str:
    """The page of one run: its summary, every year of it (no band: one seed), its tables."""
    summary = _read_summary(run)
    # A run written before years were counted from 1 (no years_counted_from) is shown counting from 1 too.
    shift = 0 if summary.get("years_counted_from") == 1 else 1
    for key in ("headline", "headline_effects"):
        for entry in (summary.get(key) or {}).values():
            if isinstance(entry, dict) and isinstance(entry.get("year"), int):
                entry["year"] += shift

    def table(name: str):
        """RUN/name.csv, or name.csv.gz (plsim run --compress); None when the run wrote neither."""
        for path in (run / f"{name}.csv", run / f"{name}.csv.gz"):
            if path.is_file():
                frame = read_table(path)
                if shift and "year" in frame:
                    frame["year"] += shift
                return frame
        return None

    frames = {name: table(name) for name in SOURCES}
    if frames["assessments"] is None:
        raise FileNotFoundError(f"report: {run} has no assessments.csv")
    if frames["costs"] is None:  # plsim run writes costs.csv when anything was spent
        frames["costs"] = pd.DataFrame({"year": pd.Series(dtype=int), "amount": pd.Series(dtype=float)})
    teachers = pd.DataFrame((summary.get("teachers") or {}).get("by_year") or [])
    frames["teachers"] = teachers.assign(year=teachers["year"] + shift) if len(teachers) else None
    name, seed = str(summary.get("scenario", "")), summary.get("seed")
    band = f"one run (seed {seed}): no band; plsim compare --seeds N or plsim ensemble give bands over seeds"
    rows = of_frames(frames).assign(scenario=name, seed=seed)
    bands_table = bands(rows).assign(band=band)
    parts = page.sections(bands_table)
    extra = _run_blocks(frames, table("study"), summary)
    for part in parts:
        part.html.extend(extra.get(part.key, []))
    intro = [f"One run of {name} (seed {seed}), {summary.get('years')} years. Years are counted from 1. A single "
             f"run has no band: the spread between runs needs plsim compare --seeds N or plsim ensemble."]
    top = [summary_html(summary), page.glance(bands_table, KEY_METRICS)]
    return page.render(f"plsim report: {name}", intro, top, parts, f"Written by plsim {__version__} from {run}.")


def _run_blocks(frames: dict, study, summary: dict) -> dict:
    """Tables and images of a run beside its charts, by section: rollout by district, costs by category,
    the emulated study."""
    blocks: dict = {}
    r = frames.get("rollout")
    if r is not None and "district" in r and len(r):
        last = r[r["year"] == r["year"].max()]
        rows = [[str(x["district"]), str(x.get("target_kind", "n/a")) if x.get("has_plan") else "no plan",
                 formats.share(x["target_share"]) if x.get("has_plan") else "n/a", formats.share(x["share_students_pl"]),
                 formats.count(x["schools_pilot"] + x["schools_schoolwide"]), formats.count(x.get("students_reached"))]
                for x in last.head(60).to_dict("records")]
        blocks["reach"] = [page.table_html(rows, ["district", "target means", "target", "reach", "PL schools",
                                                  "students reached so far"],
                                           f"By district, year {int(last['year'].iloc[0])}"
                                           + (" (the first 60)" if len(last) > 60 else ""))]
    c = frames.get("costs")
    if c is not None and len(c) and "category" in c:
        pivot = c.pivot_table(index="category", columns="year", values="amount", aggfunc="sum").fillna(0.0)
        rows = [[str(k)] + [formats.money(v) for v in row] for k, row in pivot.iterrows()]
        rows.append(["total"] + [formats.money(v) for v in pivot.sum()])
        blocks["costs"] = [page.table_html(rows, ["category"] + [f"year {int(y)}" for y in pivot.columns],
                                           "Costs by category and year (every payer)")]
    if study is not None and len(study):
        from .study import plot as study_plot

        image = page.png_of(study_plot(study).figure)
        blocks["effects"] = [f"<figure><img alt='What would an evaluation have reported?' "
                             f"src='data:image/png;base64,{image}'><figcaption>What would an evaluation have "
                             f"reported? The emulated matched study's school estimates against the truth."
                             f"</figcaption></figure>"]
    return blocks
