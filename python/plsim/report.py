"""Results people would rather look at: the plots of a run (`sim.plot()`), its HTML summary in Jupyter
(`Sim._repr_html_`), and `plsim report RUN_DIR`, a self-contained HTML report of a run directory
written by `plsim run --out` (summary, tables and plots, images embedded)."""
from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from .results import norms_growth
from .safe_io import SCENARIO_MAX_BYTES, FileRefused, parse_json, read_bounded, plot_label


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
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    plot_levels(assessments, axes[0])
    plot_effects(effects if effects is not None else pd.DataFrame(), axes[1])
    fig.tight_layout()
    return fig


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


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


def write_report(run_dir) -> Path:
    """Reads a run directory (summary.json and the CSVs `plsim run --out` writes) and writes
    run_dir/report.html: the summary, the plots and the main tables, with every image embedded."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run = Path(run_dir)
    summary_path = run / "summary.json"
    if not summary_path.is_file() and (run / "psa.json").is_file():
        return write_psa_report(run)
    if not summary_path.is_file():
        raise FileNotFoundError(f"report: {run} has no summary.json (write one with plsim run --out {run})")
    summary = parse_json(read_bounded(summary_path, limit=SCENARIO_MAX_BYTES, what="summary.json"), str(summary_path),
                         what="summary.json")
    if not isinstance(summary, dict):
        raise FileRefused(f"{summary_path}: not the summary.json of a plsim run (not an object)")

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
                frame = pd.read_csv(path)
                if shift and "year" in frame:
                    frame["year"] += shift
                return frame
        return None

    assessments = table("assessments")
    if assessments is None:
        raise FileNotFoundError(f"report: {run} has no assessments.csv")
    effects = table("effects")
    images = [("Scores and effects", _png(plot_run(assessments, effects)))]
    tables = []
    if (r := table("rollout")) is not None:
        fig, ax = plt.subplots(figsize=(6, 3.5))
        by = r.groupby("district") if "district" in r else [("national", r)]  # --level national: one row a year
        for district, g in by:
            ax.plot(g["year"], g["share_students_pl"], marker="o", label=plot_label(district))
            ax.plot(g["year"], g["target_share"], "k--", lw=0.8)
        ax.set(xlabel="year", ylabel="share of students in PL classrooms", title="rollout (dashed: target)")
        ax.legend(fontsize=7)
        images.append(("Rollout", _png(fig)))
        tables.append(("Rollout by district and year" if "district" in r else "Rollout by year", r))
    if (c := table("costs")) is not None:
        pivot = c.pivot_table(index="year", columns="category", values="amount", aggfunc="sum").fillna(0)
        fig, ax = plt.subplots(figsize=(6, 3.5))
        (pivot / 1e6).plot.bar(stacked=True, ax=ax)
        ax.set(xlabel="year", ylabel="US$ million", title="costs by category")
        images.append(("Costs", _png(fig)))
        tables.append(("Costs by year and payer (US$)", c.pivot_table(index="year", columns="payer", values="amount",
                                                                      aggfunc="sum").fillna(0).round(0)))
    if (s := table("study")) is not None:
        from .study import plot as study_plot

        if len(s):
            unit = {"school": "school", "district": "district"}.get(summary.get("level", "school"), "model")
            ax = study_plot(s)
            images.append(("Emulated study against the truth", _png(ax.figure)))
            tables.append((f"Emulated study (one row per {unit}, subject and year)", s.round(4)))
    if (g := table("subgroups")) is not None:
        last = g[g["year"] == g["year"].max()]
        t = last.groupby(["subgroup", "subject"])[["growth_true_rit", "norm_growth_rit", "effect_true_sd"]].mean().round(3)
        tables.append(("Subgroups, last year (means over grades)", t))
    parts = [f"<h1>plsim report: {html.escape(str(summary.get('scenario', '')))}</h1>", summary_html(summary)]
    return _write_page(run, parts, images, tables)


def _write_page(run: Path, parts: list, images: list, tables: list) -> Path:
    """run/report.html: the parts, then each (title, base64 PNG) image and (title, DataFrame) table."""
    for title, data in images:
        parts.append(f"<h2>{html.escape(title)}</h2><img alt='{html.escape(title)}' src='data:image/png;base64,{data}'>")
    for title, frame in tables:
        parts.append(f"<h2>{html.escape(title)}</h2>" + frame.to_html(max_rows=60))
    # A check a headless browser (and the tests) can read: every image decoded.
    script = ("<script>window.addEventListener('load',()=>{const i=[...document.images];"
              "const ok=i.filter(x=>x.complete&&x.naturalWidth>0).length;"
              "document.getElementById('status').textContent=`rendered ${ok} of ${i.length} images`;});</script>")
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>plsim report</title>"
            "<style>body{font-family:sans-serif;max-width:1200px;margin:auto}img{max-width:100%}"
            "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px}</style>"
            f"</head><body>{''.join(parts)}<p id='status'>not rendered</p>{script}</body></html>")
    out = run / "report.html"
    out.write_text(page)
    return out


def write_psa_report(run: Path) -> Path:
    """report.html of a plsim compare --uncertainty directory: what was drawn, each strategy's cost and
    effect with their intervals, the incremental comparisons, the acceptability curves, EVPI and EVPPI,
    and the cost-effectiveness plane (the PNGs the analysis wrote, embedded)."""
    meta = parse_json(read_bounded(run / "psa.json", limit=SCENARIO_MAX_BYTES, what="psa.json"), str(run / "psa.json"),
                      what="psa.json")
    if not isinstance(meta, dict):
        raise FileRefused(f"{run / 'psa.json'}: not the psa.json of plsim compare --uncertainty (not an object)")

    def csv(name: str):
        return pd.read_csv(run / name) if (run / name).is_file() else None

    def png(name: str):
        path = run / name
        return base64.b64encode(path.read_bytes()).decode("ascii") if path.is_file() else None

    strategies = ", ".join(str(s) for s in meta.get("strategies", []))
    intro = (f"{len(meta.get('strategies', []))} strategies ({strategies}) under {meta.get('draws')} parameter draws "
             f"from {meta.get('uncertainty')}, seeds {meta.get('seeds')} in every draw (common random numbers); "
             f"intervals: {meta.get('interval')}; willingness to pay in US$ per SD-student gained.")
    parts = ["<h1>plsim probabilistic sensitivity analysis</h1>", f"<p>{html.escape(intro)}</p>"]
    images = [(title, data) for title, data in (("Cost-effectiveness plane", png("ce_plane.png")),
                                                 ("Acceptability curves", png("ceac.png")),
                                                 ("Value of information by parameter group", png("evppi.png")))
              if data is not None]
    wtps = [float(w) for w in meta.get("wtp", [])]
    tables = []
    for title, name in (("Strategies: means and 90% intervals over the draws", "psa_summary.csv"),
                        ("Every incremental comparison", "incremental.csv")):
        if (frame := csv(name)) is not None:
            tables.append((title, frame.round(4)))
    if (c := csv("ceac.csv")) is not None and wtps:
        tables.append(("Probability best at the reference willingness to pay",
                       c[c["wtp"].isin(wtps)].pivot(index="scenario", columns="wtp", values="probability_best")))
    if (e := csv("evpi.csv")) is not None and wtps:
        tables.append(("EVPI (US$ for the decision, and a year)", e[e["wtp"].isin(wtps)].round(0)))
    if (v := csv("evppi.csv")) is not None:
        tables.append(("EVPPI by parameter group (US$)", v.drop(columns="parameters").round(3)))
    return _write_page(run, parts, images, tables)
