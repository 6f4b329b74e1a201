"""Plots and reports: sim.plot(), Sim._repr_html_, and plsim report rendered in a headless browser
(Chromium: no console message, every chart drawn, a screenshot in the test's directory)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Optional, Tuple

import pytest

import plsim
import plsim.cli


def test_sim_plot_and_html():
    sim = plsim.Sim(plsim.load_scenario("nglc_like"), threads=2).run()
    fig = sim.plot()
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == "true effect (SD)"
    # The plot shows the CLI's headline (students in PL schools that year), and says so.
    assert "students in PL schools that year" in fig.axes[1].get_title()
    headline = sim.summary()["headline_effects"]
    plotted = {bars.get_label(): bars.lines[0].get_ydata() for bars in fig.axes[1].containers}
    for subject in ("math", "reading"):
        assert list(plotted[subject]) == pytest.approx(list(headline[subject]["by_year_pl_schools"].values()), abs=1e-6)
    import matplotlib.pyplot as plt

    assert fig.number not in plt.get_fignums(), "closed in pyplot: a notebook shows it once, as the cell's value"
    html = sim._repr_html_()
    assert "<table>" in html and "effect on students in PL schools, math, year 1" in html


def _browser() -> str:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.fail("chromium is not installed: scripts/install-deps.sh installs it")
    return browser


def load_in_browser(page: Path, screenshot: Optional[Path] = None) -> Tuple[str, list]:
    """Loads `page` in headless Chromium: its DOM after the scripts ran, and every message its scripts
    wrote to the console (errors, uncaught exceptions, warnings, logs: a report writes none); with
    `screenshot`, also a PNG of the page there."""
    # Under the sanitizer suite the tests run with libasan preloaded; the browser must not be.
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
    common = [_browser(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
              "--virtual-time-budget=20000"]
    run = subprocess.run([*common, "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=180, env=env)
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    if screenshot is not None:
        subprocess.run([*common, "--window-size=1280,7000", f"--screenshot={screenshot}", page.as_uri()],
                       capture_output=True, timeout=180, env=env)
    return run.stdout, console


def charts_drawn(dom: str) -> Tuple[int, int]:
    """(charts on the page, charts plotly drew: an SVG inside their figure)."""
    figures = [f for f in dom.split("<figure")[1:] if 'id="chart-' in f]
    return len(figures), sum('class="main-svg"' in f for f in figures)


def test_the_browser_check_sees_console_errors_and_undrawn_charts(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text("<!doctype html><figure><div id='chart-1'></div></figure><script>console.error('bad');"
                   "undefinedFunction();</script>")
    dom, console = load_in_browser(bad)
    assert any("bad" in line for line in console) and any("Uncaught ReferenceError" in line for line in console)
    assert charts_drawn(dom) == (1, 0)


def test_plsim_report_writes_a_page_a_program_officer_can_forward(tmp_path):
    run = tmp_path / "run"
    assert plsim.cli.main(["run", "scale_up_district", "--set", "years=2", "--study", "--out", str(run)]) == 0
    assert plsim.cli.main(["report", str(run)]) == 0
    page = (run / "report.html").read_text()
    assert "http://" not in page and "https://" not in page  # nothing to fetch: plotly.js is inside
    text = re.sub(r"<script.*?</script>", "", page, flags=re.S)
    assert not re.search(r"\bnan\b", text, flags=re.I), "no NaN cell"
    assert re.search(r"\$\d{1,3}(,\d{3})+<", text), "money as $1,234,567"
    assert re.search(r">\d+\.\d%<", text) and re.search(r">[+-]\d\.\d\d SD<", text), "shares and SD written"
    for heading in ("Reach", "Teachers", "Fidelity", "Scores", "Effects", "Costs", "Subgroups"):
        assert f"<h2>{heading}</h2>" in page
    charts = json.loads(re.search(r"<script type='application/json' id='charts'>(.*?)</script>", page, re.S).group(1))
    for figure in charts.values():
        assert figure["layout"]["title"]["text"].split("<br>")[0].endswith("?"), "titled with its question"
        if figure["layout"]["xaxis"]["title"]["text"] == "year":
            assert figure["layout"]["xaxis"]["dtick"] == 1 and figure["layout"]["xaxis"]["tick0"] == 1
    fallbacks = len(re.findall(r"<img class='fallback' [^>]*src='data:image/png;base64,", page))
    assert fallbacks == len(charts) >= 14, "every chart has its static image"
    shot = tmp_path / "report.png"
    dom, console = load_in_browser(run / "report.html", shot)
    assert console == [], console
    assert charts_drawn(dom) == (len(charts), len(charts))
    assert f"drew {len(charts)} of {len(charts)} charts" in dom
    assert shot.stat().st_size > 50_000, "a screenshot of the report in the test's directory"
    print(f"report screenshot: {shot}")


def test_report_of_a_directory_without_a_run_says_so(tmp_path):
    assert plsim.cli.main(["report", str(tmp_path)]) == 2
