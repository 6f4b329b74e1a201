"""Plots and reports: sim.plot(), Sim._repr_html_, and plsim report rendered in a headless browser."""
from __future__ import annotations

import os
import re
import shutil
import subprocess

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
    html = sim._repr_html_()
    assert "<table>" in html and "effect on students in PL schools, math, year 1" in html


def test_plsim_report_writes_a_self_contained_page_that_renders_in_a_browser(tmp_path):
    run = tmp_path / "run"
    assert plsim.cli.main(["run", "scale_up_district", "--set", "years=2", "--study", "--out", str(run)]) == 0
    assert plsim.cli.main(["report", str(run)]) == 0
    page = (run / "report.html").read_text()
    images = len(re.findall(r"<img [^>]*src='data:image/png;base64,", page))
    assert images >= 4  # scores and effects, rollout, costs, study
    assert "http://" not in page and "https://" not in page  # nothing to fetch
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.fail("chromium is not installed: scripts/install-deps.sh installs it")
    # Under the sanitizer suite the tests run with libasan preloaded; the browser must not be.
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
                          "--dump-dom", (run / "report.html").as_uri()], capture_output=True, text=True, timeout=120,
                         env=env)
    assert f"rendered {images} of {images} images" in dom.stdout, dom.stderr[-2000:]


def test_report_of_a_directory_without_a_run_says_so(tmp_path):
    assert plsim.cli.main(["report", str(tmp_path)]) == 2
