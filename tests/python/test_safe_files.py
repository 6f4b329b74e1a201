"""Every file and argument has a bound checked before work starts, every refusal is one line with
exit code 2 and no traceback, and outputs are safe to open: HTML escaped, CSV cells never formulas,
--out never replacing what plsim did not write."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import plsim
import plsim.cli
from plsim import outdir, safe_io

from conftest import TINY_PATH, elementary_district, tiny_document

PLSIM = Path(sys.executable).with_name("plsim")


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and "\n" not in err, err
    return err


# --- threads -------------------------------------------------------------------------------------

def test_a_huge_thread_count_is_clamped_with_a_warning_and_the_process_exits_cleanly(tmp_path):
    result = subprocess.run([str(PLSIM), "run", str(TINY_PATH), "--threads", "65537", "--out", str(tmp_path / "o")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "plsim: warning: threads: asked for 65537, but this machine runs" in result.stderr
    code = ("import plsim, gc, warnings; warnings.simplefilter('ignore')\n"
            "s = plsim.Sim(plsim.load_scenario(%r), threads=10**12); s.run(); del s; gc.collect()" % str(TINY_PATH))
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0


# --- scenario files ------------------------------------------------------------------------------

def test_a_duplicated_key_is_refused_with_its_json_path(tmp_path, capsys):
    doc = json.dumps(tiny_document())
    text = doc.replace('"name": ', '"name": "first", "name": ', 2)  # the scenario's and the district's name
    path = tmp_path / "dup.json"
    path.write_text(text)
    with pytest.raises(plsim.ScenarioError, match=r"dup.json: /districts/0/name: the key appears more than once"):
        plsim.load_scenario(path)
    assert plsim.cli.main(["run", str(path)]) == 2
    assert "/name: the key appears more than once" in one_line_error(capsys)


def test_a_dict_nested_600_deep_gets_plsims_error_not_a_recursion_error():
    d = {"x": 1}
    for _ in range(600):
        d = {"a": d}
    doc = elementary_district(schools=1, enrollment=50)
    doc["parameters"] = d
    with pytest.raises(plsim.ScenarioError, match=r"/parameters/a/a/.*: nested deeper than 64 levels"):
        plsim.load_scenario(doc)
    assert "nested deeper than 64 levels" in plsim.check_scenario(doc)[0]


@pytest.mark.parametrize("path, message", [("/dev/zero", "not a regular file"), ("/proc/self", "is a directory")])
def test_a_device_or_directory_as_a_scenario_is_refused_at_once(path, message, capsys):
    started = time.perf_counter()
    assert plsim.cli.main(["validate", path]) == 1  # validate lists a scenario's errors
    err = capsys.readouterr().err
    assert f"{path}: {message}" in err and "Traceback" not in err
    assert plsim.cli.main(["run", path]) == 2
    assert message in one_line_error(capsys)
    assert time.perf_counter() - started < 5


def test_a_scenario_file_larger_than_the_bound_is_refused_before_it_is_read(tmp_path, monkeypatch, capsys):
    path = tmp_path / "big.json"
    path.write_text(json.dumps(tiny_document()) + " " * 5000)
    monkeypatch.setattr(plsim.scenarios, "SCENARIO_MAX_BYTES", 4096)
    assert plsim.cli.main(["run", str(path)]) == 2
    assert "more than the 4096 bytes plsim reads as a scenario file" in one_line_error(capsys)


def test_a_table_of_schools_is_bounded_and_must_be_a_regular_utf8_csv(tmp_path, monkeypatch, capsys):
    big = tmp_path / "schools.csv"
    big.write_text("name,level,enrollment\n" + "a,elementary,300\n" * 1000)
    monkeypatch.setattr(plsim.district, "SCHOOLS_CSV_MAX_BYTES", 1024)
    assert plsim.cli.main(["init", "--schools", str(big)]) == 2
    assert "more than the 1024 bytes plsim reads as a table of schools" in one_line_error(capsys)
    assert plsim.cli.main(["init", "--schools", "/dev/zero"]) == 2
    assert "not a regular file" in one_line_error(capsys)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("name,level,enrollment\nEcole \xe9,elementary,300\n".encode("latin-1"))
    with pytest.raises(plsim.SchoolTableError, match="not UTF-8 text"):
        plsim.from_schools(latin)


# --- memory --------------------------------------------------------------------------------------

def test_a_run_that_cannot_fit_in_memory_is_refused_before_it_starts_with_the_estimate(capsys):
    doc = elementary_district(schools=40, enrollment=120, model="station_rotation", years=4)
    started = time.perf_counter()
    with pytest.raises(plsim.MemoryLimitError, match=r"needs about .* GiB of memory \(4,800 students, 4 years, 2 arms, "
                                                     r"[\d,]+ logged responses\), more than the 0.0 GiB given by max_memory"):
        plsim.Sim(doc, responses=1.0, max_memory=1 << 20)
    assert time.perf_counter() - started < 1, "refused before the population was built"
    estimate = plsim.resources.estimate_run_memory(plsim.load_scenario(doc).resolved, responses=1.0)
    fewer = plsim.resources.estimate_run_memory(plsim.load_scenario(doc).resolved, responses=0.1)
    assert estimate["students"] == 4800 and estimate["responses"] > 9 * fewer["responses"] > 0
    assert plsim.cli.main(["run", "district_station_rotation", "--responses", "1", "--set", "years=4",
                           "--max-memory", "2G"]) == 2
    err = one_line_error(capsys)
    assert "more than the 2.0 GiB given by max_memory" in err and "--max-memory" in err


def test_the_default_bound_is_the_memory_this_machine_has_available(monkeypatch):
    monkeypatch.setattr(plsim.resources, "available_memory", lambda: 100 << 20)
    with pytest.raises(plsim.MemoryLimitError, match="available on this machine"):
        plsim.Sim(elementary_district(schools=400, enrollment=500))
    assert plsim.resources.machine_memory() > 0


def test_ctrl_c_while_the_command_starts_is_one_line_and_exit_code_130():
    for delay in (0.3, 1.5):  # in the imports, then (on this machine) in the population's set-up
        process = subprocess.Popen([str(PLSIM), "run", "national_baseline", "--threads", "1"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
        if process.returncode == 0 or "fall-to-spring growth" in out:
            continue  # finished (its summary printed) before the signal: nothing to see
        assert process.returncode == 130, err
        assert err.strip().splitlines()[-1] == "plsim: interrupted" and "Traceback" not in err


# --- clean errors --------------------------------------------------------------------------------

def test_debug_shows_the_traceback_that_is_otherwise_one_line(tmp_path, capsys):
    missing = str(tmp_path / "missing.plsim")
    assert plsim.cli.main(["resume", missing]) == 2
    assert "missing.plsim: no such file" in one_line_error(capsys)
    with pytest.raises(plsim.CheckpointError):
        plsim.cli.main(["--debug", "resume", missing])


@pytest.fixture()
def out_cases(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "afile").write_text("notes")
    return tmp_path


@pytest.mark.parametrize("out, extra, message", [
    ("link", ["--overwrite"], "is a symbolic link (to "),
    ("dangling", [], "is a symbolic link that points nowhere"),
    ("afile/x", [], "afile is a file, not a directory"),
    ("afile", [], "afile is a file; give a directory"),
    ("/proc", ["--overwrite"], "holds files no plsim run wrote|mount point"),
    ("/proc", ["--overwrite-all"], "mount point or the root"),
], ids=["symlink", "dangling link", "under a file", "a file", "/proc", "/proc overwrite-all"])
def test_an_out_that_cannot_take_outputs_is_refused_in_one_line_before_the_run(out_cases, capsys, out, extra, message):
    target = out if out.startswith("/") else str(out_cases / out)
    assert plsim.cli.main(["run", str(TINY_PATH), "--out", target, *extra]) == 2
    err = one_line_error(capsys)
    assert err.startswith("plsim run: argument --out: ") and any(m in err for m in message.split("|")), err
    assert (out_cases / "link").is_symlink() and not any((out_cases / "real").iterdir()), "the link was left alone"


# --- --overwrite ---------------------------------------------------------------------------------

def test_overwrite_replaces_an_earlier_runs_files_and_refuses_a_directory_with_others(tmp_path, capsys):
    out = tmp_path / "out"
    assert plsim.cli.main(["run", str(TINY_PATH), "--out", str(out)]) == 0
    manifest = json.loads((out / ".plsim-manifest.json").read_text())
    assert sorted(manifest["files"]) == sorted(p.name for p in out.iterdir() if p.name != ".plsim-manifest.json")
    assert plsim.cli.main(["run", str(TINY_PATH), "--out", str(out), "--overwrite", "--seed", "2"]) == 0
    assert json.loads((out / "summary.json").read_text())["seed"] == 2
    (out / "my_notes.txt").write_text("keep me")
    assert plsim.cli.main(["run", str(TINY_PATH), "--out", str(out), "--overwrite"]) == 2
    assert "holds files no plsim run wrote (my_notes.txt)" in one_line_error(capsys)
    assert (out / "my_notes.txt").read_text() == "keep me"
    assert plsim.cli.main(["run", str(TINY_PATH), "--out", str(out), "--overwrite-all"]) == 0
    assert not (out / "my_notes.txt").exists()


def test_a_directory_of_a_run_from_before_manifests_can_still_be_overwritten(tmp_path):
    out = tmp_path / "old"
    out.mkdir()
    for name in ("summary.json", "assessments.csv", "subgroups.csv.gz"):
        (out / name).write_text("{}")
    assert outdir.foreign_files(out) == []
    (out / "thesis.docx").write_text("")
    assert outdir.foreign_files(out) == ["thesis.docx"]
    (out / "summary.json").unlink()
    assert "assessments.csv" in outdir.foreign_files(out), "without a summary.json nothing is taken for plsim's"


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two renames"])
def test_publishing_replaces_the_directory_and_leaves_no_staging_behind(tmp_path, monkeypatch, exchange):
    final = tmp_path / "out"
    final.mkdir()
    (final / "summary.json").write_text("old")
    if not exchange:
        monkeypatch.setattr(outdir, "_exchange", lambda a, b: False)
    staging = outdir.staging_dir(final)
    (staging / "summary.json").write_text("new")
    outdir.publish(staging, final)
    assert (final / "summary.json").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_ctrl_c_between_the_two_renames_is_held_until_the_directory_is_back(tmp_path, monkeypatch):
    final = tmp_path / "out"
    final.mkdir()
    monkeypatch.setattr(outdir, "_exchange", lambda a, b: False)
    staging = outdir.staging_dir(final)
    (staging / "summary.json").write_text("new")
    real_rename = Path.rename

    def rename_then_interrupt(self, target):
        result = real_rename(self, target)
        os.kill(os.getpid(), signal.SIGINT)  # arrives after the first rename: DIR is missing now
        return result

    monkeypatch.setattr(Path, "rename", rename_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        outdir.publish(staging, final)
    assert (final / "summary.json").read_text() == "new", "the interrupt waited for DIR to be in place"


# --- HTML and CSV --------------------------------------------------------------------------------

def test_every_html_escapes_user_names():
    doc = elementary_district(schools=2, enrollment=60, model="station_rotation")
    doc["name"] = "<script>alert(1)</script>"
    doc["districts"][0]["name"] = "<img src=x onerror=alert(2)>"
    ensemble = plsim.ensemble(doc, seeds=[1, 2], progress=False)
    sim = plsim.Sim(doc, threads=1).run()
    for page in (ensemble._repr_html_(), sim._repr_html_()):
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_report_never_fails_on_a_name_that_matplotlib_would_read_as_math(tmp_path):
    doc = json.loads((Path(plsim.scenarios.shipped_scenarios()["scale_up_district"])).read_text())
    doc["districts"][0]["name"] = "$\\frac{1}{$ <b>district</b>"  # in the rollout plot's legend and table
    doc["years"] = 2
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc))
    assert plsim.cli.main(["run", str(path), "--out", str(tmp_path / "out")]) == 0
    assert plsim.cli.main(["report", str(tmp_path / "out")]) == 0
    page = (tmp_path / "out" / "report.html").read_text()
    assert "id='status'" in page and page.count("data:image/png") >= 2, "the charts were drawn"
    assert "&lt;b&gt;district&lt;/b&gt;" in page.split("By district")[1][:400], "the name in the rollout table"
    assert "<b>district</b>" not in page and "&lt;b&gt;district&lt;/b&gt;" in page


def test_a_report_of_a_comparison_escapes_scenario_names_in_charts_tables_and_titles(tmp_path):
    from plsim.report import write_report

    names = ["<script>alert(1)</script>", "=cmd|' /C calc'!A0 & $x$"]
    rows = [{"scenario": name, "year": year, "metric": metric, "mean": 0.1 * year, "low": 0.05, "high": 0.3,
             "n_seeds": 3, "band": "5th-95th percentile over 3 seeds; parameters fixed"}
            for name in names for metric in ("share_students_pl", "effect_math_sd_frl") for year in (1, 2)]
    safe_io.formula_safe_frame(pd.DataFrame(rows)).to_csv(tmp_path / "comparison_by_year.csv", index=False)
    page = write_report(tmp_path).read_text()
    assert "<script>alert" not in page and page.count("</script>") == 3, "only the page's own scripts"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, "the name in the glance table, escaped"
    assert "=cmd|&#x27; /C calc&#x27;!A0 &amp; $x$" in page, "the spreadsheet quote is gone, the rest escaped"


def test_string_cells_a_spreadsheet_would_run_are_quoted_and_numbers_are_not():
    frame = pd.DataFrame({"district": pd.Categorical(["=HYPERLINK(\"http://x\")", "plain", "-2+3", "@SUM(A1)"]),
                          "note": ["+1", "\tTab", "\rCR", "ok"], "effect": [-0.5, 1.0, -2.0, 3.0], "n": [-1, 2, 3, 4]})
    text = plsim.csvio.format_csv(frame, float_format="%.2f").decode()
    rows = text.splitlines()
    assert rows[1].startswith("\"'=HYPERLINK(\"\"http://x\"\")\",'+1,-0.50,-1")
    assert "'-2+3" in text and "'@SUM(A1)" in text and "'\tTab" in text
    assert safe_io.formula_safe(-3) == -3 and safe_io.formula_safe("-3") == "'-3"
    plain = pd.DataFrame({"district": ["north"], "effect": [-0.25]})
    assert safe_io.formula_safe_frame(plain) is plain, "a table with nothing to change is not copied"


def test_district_tables_written_by_a_run_quote_a_formula_name(tmp_path):
    doc = elementary_district(schools=4, enrollment=60)
    doc["districts"][0]["name"] = "=1+2"
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc))
    assert plsim.cli.main(["run", str(path), "--level", "district", "--out", str(tmp_path / "out")]) == 0
    table = pd.read_csv(tmp_path / "out" / "assessments.csv")
    assert set(table["district"]) == {"'=1+2"}
    assert (table["mean_sd"] < 0).any() and table["mean_sd"].dtype == np.float64, "numbers stay numbers"


def test_a_report_reads_a_table_only_from_a_regular_file(tmp_path):
    table = tmp_path / "comparison.csv"
    table.write_text("year,effect\n1,0.1\n")
    assert safe_io.read_table(table).to_dict("list") == {"year": [1], "effect": [0.1]}
    fifo = tmp_path / "evpi.csv"
    os.mkfifo(fifo)  # read_csv would wait on it for ever: refused before it is opened
    with pytest.raises(safe_io.FileRefused, match=r"evpi\.csv: not a regular file"):
        safe_io.read_table(fifo)
