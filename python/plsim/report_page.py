"""The page of `plsim report`: one self-contained HTML file a program officer can forward.

Interactive charts are plotly's (Debian's python3-plotly), its plotly.js carried inside the page,
gzip-compressed (2.5 MB instead of 8.6) and unpacked by the browser (DecompressionStream), so the file
needs no network. Every chart is also a matplotlib PNG in the page, shown until its interactive twin
has drawn: with scripts off, an old browser or any failure, the reader still sees every chart. Numbers
are written as people read them (plsim.formats: $1,234,567, 12.3%, +0.12 SD, n/a for a missing one),
years are whole numbers counted from 1, every chart's title is the question it answers and its
subtitle says what its band is, and every name a user chose is HTML-escaped.

A page is a list of sections (reach, teachers, fidelity, scores, effects, costs, subgroups) drawn
from a table of bands by year (plsim.by_year: scenario, year, metric, mean, low, high, n_seeds,
band), plus the tables and images the caller adds (`render`).
"""
from __future__ import annotations

import base64
import functools
import gzip
import html
import io
import json
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from . import formats
from .by_year import METRICS, SUBGROUPS, SUBGROUP_LABELS, plot as plot_static
from .safe_io import plot_label

#: The sections of a report, in order: (key, heading, what it shows), and the by-year metrics charted.
SECTIONS = (
    ("reach", "Reach", "How many students and schools personalized learning reaches, against the plan's target.",
     ("share_students_pl", "schools_pl", "students_reached")),
    ("teachers", "Teachers", "Whether teachers stay, burn out and take up the model.",
     ("teacher_turnover", "mean_burnout", "practising_teachers")),
    ("fidelity", "Fidelity", "How much of what the model asks its classrooms deliver.", ("mean_pl_fidelity",)),
    ("scores", "Scores", "Where every student scores against the national norms (0 SD is the national median "
                         "student of the grade).", ("score_math_sd", "score_reading_sd")),
    ("effects", "Effects", "What personalized learning adds for the students it reached, against the "
                           "counterfactual twin (the same students, teachers and random numbers, every school "
                           "traditional).", ("effect_math_sd", "effect_reading_sd")),
    ("costs", "Costs", "What it costs, every payer, in US$.",
     ("cost_total", "cost_cumulative", "cost_per_student_reached")),
    ("subgroups", "Subgroups", "Who gains: the effect on every student of a group (in a PL school or not), in the "
                               "last year.", ()),
)
_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
_AXES = {"share": {"tickformat": ".1%"}, "money": {"tickprefix": "$", "tickformat": ",.0f"},
         "sd": {"tickformat": ".3~f", "ticksuffix": " SD"}, "count": {"tickformat": ",~f"},
         "number": {"tickformat": ".3~f"}}


@dataclass
class Chart:
    """An interactive figure (plotly's JSON), its static PNG (base64) and a caption (plain text)."""
    title: str
    figure: dict
    png: str
    caption: str = ""


@dataclass
class Section:
    key: str
    heading: str
    intro: str
    charts: list = field(default_factory=list)
    html: list = field(default_factory=list)  # tables and images, already escaped


def escape(text) -> str:
    return html.escape(str(text), quote=True)


def _rgba(color: str, alpha: float) -> str:
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def png_of(fig) -> str:
    """A matplotlib figure as base64 PNG (closed afterwards)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _layout(title: str, subtitle: str, unit: str, x_title: str = "year") -> dict:
    return {"title": {"text": f"{escape(title)}<br><sub>{escape(subtitle)}</sub>", "font": {"size": 15}},
            "xaxis": {"title": {"text": x_title}, "gridcolor": "#eee"},
            "yaxis": {"gridcolor": "#eee", "zerolinecolor": "#999", **_AXES.get(unit, {})},
            "height": 370, "margin": {"l": 70, "r": 20, "t": 70, "b": 50}, "plot_bgcolor": "white",
            "paper_bgcolor": "white", "legend": {"orientation": "h", "y": -0.2}, "hovermode": "closest"}


def line_chart(table: pd.DataFrame, metric: str) -> Optional[Chart]:
    """`metric` by year, a line per scenario with its band (none for a single run), integer years; the
    plans' target dashed beside share_students_pl. None when no scenario has it."""
    import plotly.graph_objects as go
    import matplotlib.pyplot as plt

    rows = table[table["metric"] == metric]
    if rows.empty:
        return None
    spec = METRICS[metric]
    band = str(rows["band"].iloc[0]) if "band" in rows else ""
    fig = go.Figure()
    for i, (name, g) in enumerate(rows.groupby("scenario", sort=False)):
        color, label = _COLORS[i % len(_COLORS)], escape(name)
        years = g["year"].astype(int).tolist()
        if (g["high"] > g["low"]).any():
            fig.add_trace(go.Scatter(x=years, y=g["high"], mode="lines", line={"width": 0}, showlegend=False,
                                     hoverinfo="skip", legendgroup=label))
            fig.add_trace(go.Scatter(x=years, y=g["low"], mode="lines", line={"width": 0}, fill="tonexty",
                                     fillcolor=_rgba(color, 0.2), showlegend=False, hoverinfo="skip",
                                     legendgroup=label))
        text = [[label, formats.band(m, lo, hi, spec.unit)] for m, lo, hi in zip(g["mean"], g["low"], g["high"])]
        fig.add_trace(go.Scatter(x=years, y=g["mean"], mode="lines+markers", name=label, legendgroup=label,
                                 line={"color": color}, customdata=text,
                                 hovertemplate="%{customdata[0]}<br>year %{x}: %{customdata[1]}<extra></extra>"))
        target = table[(table["metric"] == "target_share") & (table["scenario"] == name)] \
            if metric == "share_students_pl" else table.iloc[:0]
        if len(target):
            fig.add_trace(go.Scatter(x=target["year"].astype(int).tolist(), y=target["mean"], mode="lines",
                                     name=f"{label}: target", line={"color": color, "dash": "dash", "width": 1},
                                     customdata=[[label, formats.share(v)] for v in target["mean"]],
                                     hovertemplate="%{customdata[0]}<br>target in year %{x}: "
                                                   "%{customdata[1]}<extra></extra>"))
    layout = _layout(spec.question, band, spec.unit)
    layout["xaxis"].update({"tickmode": "linear", "tick0": 1, "dtick": 1, "tickformat": "d"})
    fig.update_layout(**layout)
    static, _ = plt.subplots(figsize=(6, 3.6))
    plot_static(table, metric, ax=static.axes[0])
    static.tight_layout()
    return Chart(spec.question, fig.to_plotly_json(), png_of(static), f"{metric}: {spec.doc}")


def subgroup_chart(table: pd.DataFrame, subject: str) -> Optional[Chart]:
    """The last year's effect on each subgroup (FRL status, starting fifth), bars per scenario with
    their bands."""
    import plotly.graph_objects as go
    import matplotlib.pyplot as plt

    names = {f"effect_{subject}_sd_{g}": SUBGROUP_LABELS[g] for g in SUBGROUPS}
    rows = table[table["metric"].isin(list(names))]
    if rows.empty:
        return None
    year = int(rows["year"].max())
    rows = rows[rows["year"] == year]
    question = f"Who gains in {subject} by year {year}?"
    band = str(rows["band"].iloc[0]) if "band" in rows else ""
    fig, (static, ax) = go.Figure(), plt.subplots(figsize=(6, 3.6))
    scenarios = list(pd.unique(rows["scenario"]))
    width = 0.8 / len(scenarios)
    present = [m for m in names if m in set(rows["metric"])]
    labels = [names[m] for m in present]
    for i, name in enumerate(scenarios):
        g = rows[rows["scenario"] == name].set_index("metric").reindex(present)
        color, label = _COLORS[i % len(_COLORS)], escape(name)
        text = [[label, formats.band(m, lo, hi, "sd")] for m, lo, hi in zip(g["mean"], g["low"], g["high"])]
        fig.add_trace(go.Bar(x=labels, y=g["mean"], name=label, marker={"color": color}, customdata=text,
                             error_y={"type": "data", "symmetric": False, "array": (g["high"] - g["mean"]).tolist(),
                                      "arrayminus": (g["mean"] - g["low"]).tolist(), "visible": True},
                             hovertemplate="%{customdata[0]}<br>%{x}: %{customdata[1]}<extra></extra>"))
        x = np.arange(len(labels)) + (i - (len(scenarios) - 1) / 2) * width
        ax.bar(x, g["mean"], width=width, color=color, label=plot_label(name),
               yerr=[g["mean"] - g["low"], g["high"] - g["mean"]], capsize=3)
    ax.set_xticks(np.arange(len(labels)), [plot_label(t) for t in labels], rotation=30, ha="right", fontsize=7)
    fig.update_layout(barmode="group", **_layout(question, band, "sd", x_title="students"))
    ax.axhline(0, color="gray", lw=0.6)
    ax.set_title(plot_label(question) + f"\n{plot_label(band)}", fontsize=9)
    ax.set_ylabel(f"effect on {subject} (SD)")
    ax.legend(fontsize=7)
    static.tight_layout()
    return Chart(question, fig.to_plotly_json(), png_of(static),
                 f"effect_{subject}_sd_GROUP: true {subject} effect on every student of the group, in a PL school "
                 f"or not, spring of year {year}, against the counterfactual twin")


def sections(table: pd.DataFrame) -> list:
    """The report's sections with their charts from a table of bands by year; a section without a
    figure says why."""
    out = []
    for key, heading, intro, metrics in SECTIONS:
        section = Section(key, heading, intro)
        builders = ([functools.partial(line_chart, table, m) for m in metrics] if key != "subgroups" else
                    [functools.partial(subgroup_chart, table, s) for s in ("math", "reading")])
        section.charts = [c for c in (build() for build in builders) if c is not None]
        if not section.charts:
            section.html.append("<p class='none'>n/a: these runs have no such figures (effects and subgroups need "
                                "the counterfactual twin; fidelity and teachers' practice need PL classrooms).</p>")
        out.append(section)
    return out


def table_html(rows: Sequence[Sequence[str]], header: Sequence[str], caption: str = "") -> str:
    """An HTML table of text cells (formatted by the caller), every cell escaped."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def glance(table: pd.DataFrame, metrics: Sequence[str]) -> str:
    """The last year at a glance: a row per metric, a column per scenario, each cell its mean and band."""
    if table.empty:
        return ""
    year = int(table["year"].max())
    last = table[table["year"] == year]
    scenarios = list(pd.unique(table["scenario"]))
    rows = []
    for metric in metrics:
        m = last[last["metric"] == metric].set_index("scenario")
        if m.empty:
            continue
        unit = METRICS[metric].unit
        rows.append([METRICS[metric].doc] + [formats.band(m.at[s, "mean"], m.at[s, "low"], m.at[s, "high"], unit)
                                             if s in m.index else formats.NOT_AVAILABLE for s in scenarios])
    band = str(table["band"].iloc[0]) if "band" in table else ""
    return table_html(rows, ["in year " + str(year)] + scenarios, f"Year {year} at a glance (mean, and in brackets "
                                                                   f"the band: {band})")


@functools.lru_cache(maxsize=1)
def _plotly_gz() -> str:
    from plotly.offline import get_plotlyjs

    return base64.b64encode(gzip.compress(get_plotlyjs().encode("utf-8"), 6, mtime=0)).decode("ascii")


def _json_for_script(value) -> str:
    """JSON safe inside a <script> element: no "<", ">" or "&" that could end it."""
    from plotly.utils import PlotlyJSONEncoder

    text = json.dumps(value, cls=PlotlyJSONEncoder)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# Unpacks plotly.js, draws every chart, hides its static image once drawn, and writes the count in
# #status (what a headless browser and the tests read).
_SCRIPT = """
(async () => {
  const status = document.getElementById('status');
  const charts = JSON.parse(document.getElementById('charts').textContent);
  try {
    const b64 = document.getElementById('plotly-gz').textContent.trim();
    const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    const code = await new Response(stream).text();
    const s = document.createElement('script');
    s.textContent = code;
    document.head.appendChild(s);
    let drawn = 0;
    for (const [id, fig] of Object.entries(charts)) {
      const div = document.getElementById(id);
      await Plotly.newPlot(div, fig.data, fig.layout, {responsive: true, displaylogo: false});
      div.parentElement.classList.add('drawn');
      drawn += 1;
    }
    status.textContent = `drew ${drawn} of ${Object.keys(charts).length} charts`;
  } catch (e) {
    status.textContent = 'static charts (the interactive ones could not be drawn here)';
  }
})();
"""

_STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1240px;margin:auto;padding:0 16px;color:#222}
h1{font-size:1.6em}h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:2em}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:12px}
figure{margin:0;border:1px solid #eee;padding:4px}figure img{max-width:100%}
figure.drawn img.fallback{display:none}figcaption{font-size:12px;color:#555;padding:2px 6px}
table{border-collapse:collapse;font-size:13px;margin:10px 0}caption{text-align:left;font-weight:600;padding:4px 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
.note{color:#555;font-size:13px}.none{color:#777}nav a{margin-right:12px}
"""


def render(title: str, intro: Sequence[str], top: Sequence[str], parts: Sequence[Section], footer: str) -> str:
    """The page: `title` and `intro` (plain text, escaped here), `top` (HTML blocks: tables), the
    sections with their charts and blocks, and `footer` (plain text)."""
    charts, body = {}, []
    nav = "".join(f"<a href='#{s.key}'>{escape(s.heading)}</a>" for s in parts)
    for section in parts:
        body.append(f"<section id='{section.key}'><h2>{escape(section.heading)}</h2><p class='note'>"
                    f"{escape(section.intro)}</p><div class='grid'>")
        for chart in section.charts:
            cid = f"chart-{len(charts) + 1}"
            charts[cid] = chart.figure
            body.append(f"<figure><div id='{cid}'></div><img class='fallback' alt='{escape(chart.title)}' "
                        f"src='data:image/png;base64,{chart.png}'><figcaption>{escape(chart.caption)}</figcaption>"
                        f"</figure>")
        body.append("</div>" + "".join(section.html) + "</section>")
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width,initial-scale=1'>"
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
            f"<h1>{escape(title)}</h1>" + "".join(f"<p>{escape(p)}</p>" for p in intro) +
            f"<nav>{nav}</nav>" + "".join(top) + "".join(body) +
            f"<p class='note'>{escape(footer)}</p><p id='status' class='note'>static charts</p>"
            f"<script type='application/json' id='charts'>{_json_for_script(charts)}</script>"
            f"<script type='application/octet-stream' id='plotly-gz'>{_plotly_gz()}</script>"
            f"<script>{_SCRIPT}</script></body></html>")
