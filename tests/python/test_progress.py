"""Progress never breaks a run: a widget bar only where a Jupyter frontend can draw it (ipywidgets 7 or
later, in a kernel), tqdm's text bar everywhere else, as in a notebook executed headless with Debian's
ipywidgets 6; and the notebook server set-up installs lists plsim's kernel."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import nbformat
import pytest
from nbclient import NotebookClient

import plsim.progress
from conftest import REPO, TINY_PATH


class _Kernel:
    """What IPython's get_ipython() returns inside a Jupyter kernel (its config names IPKernelApp)."""
    config = {"IPKernelApp": {}}


def test_outside_a_kernel_the_bar_is_text(monkeypatch):
    monkeypatch.delenv(plsim.progress.ENV, raising=False)
    assert not plsim.progress.widgets_usable()
    bar = plsim.progress.progress_bar(total=3, unit="week")
    try:
        assert type(bar).__module__ == "tqdm.std"
    finally:
        bar.close()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # (Debian's ipywidgets 6 on traitlets 5)
def test_in_a_kernel_widgets_are_used_only_with_a_protocol_frontends_read(monkeypatch):
    import IPython
    import ipywidgets

    monkeypatch.delenv(plsim.progress.ENV, raising=False)
    monkeypatch.setattr(IPython, "get_ipython", lambda: _Kernel())
    monkeypatch.setattr(ipywidgets, "__version__", "6.0.0")  # Debian 12's: nbclient fails on its widgets
    assert not plsim.progress.widgets_usable()
    monkeypatch.setattr(ipywidgets, "__version__", "8.0.4")
    assert plsim.progress.widgets_usable()
    monkeypatch.setenv(plsim.progress.ENV, "text")
    assert not plsim.progress.widgets_usable()


def _execute(code: str, tmp_path) -> list:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    NotebookClient(notebook, timeout=300, kernel_name="plsim",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    return notebook.cells[0].outputs


def test_run_and_ensemble_progress_work_in_a_headless_notebook(tmp_path):
    """The README's `run(progress=True)` and plsim.ensemble's default bar, executed by nbclient in the
    kernel set-up installs (a widget bar of Debian's ipywidgets failed there with KeyError: 'state')."""
    code = (f"import plsim, ipywidgets\n"
            f"from plsim.progress import widgets_usable\n"
            f"sim = plsim.Sim(plsim.load_scenario({str(TINY_PATH)!r}), threads=1).run(progress=True)\n"
            f"e = plsim.ensemble({str(TINY_PATH)!r}, seeds=[1, 2])\n"
            f"print('years', sim.years_completed, 'runs', len(e.effects['seed'].unique()))\n"
            f"print('ipywidgets', ipywidgets.__version__.split('.')[0], 'widgets', widgets_usable())\n")
    outputs = _execute(code, tmp_path)
    text = "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream" and o["name"] == "stdout")
    errors = "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream" and o["name"] == "stderr")
    assert "years 1 runs 2" in text
    major = int(text.split("ipywidgets ")[1].split()[0])
    if major < 7:  # Debian 12: the text bars, in the cell's stderr
        assert "widgets False" in text
        assert "week" in errors and "run" in errors and "100%" in errors


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_readme_notebook_server_lists_the_plsim_kernel(tmp_path):
    """README: `.venv/bin/python -m notebook notebooks/` serves the notebooks with the kernel
    "Python (plsim)" that scripts/setup.sh installs into .venv."""
    pytest.importorskip("notebook")
    port = _free_port()
    # The README's own interpreter, whichever environment runs the suite (the sanitizer pass runs it
    # from .venv-asan, whose kernel of the same name says "sanitizers").
    python = REPO / ".venv" / "bin" / "python"
    if not python.is_file():
        pytest.skip("no .venv: scripts/setup.sh has not run here")
    command = [str(python), "-m", "notebook", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               "--NotebookApp.token=plsim-test", f"--NotebookApp.runtime_dir={tmp_path}", str(REPO / "notebooks")]
    if os.geteuid() == 0:
        command.append("--allow-root")
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                url = f"http://127.0.0.1:{port}/api/kernelspecs?token=plsim-test"
                with urllib.request.urlopen(url, timeout=2) as r:
                    specs = json.load(r)["kernelspecs"]
                break
            except OSError:
                assert server.poll() is None, "the notebook server exited"
                assert time.monotonic() < deadline, "the notebook server did not answer within 60 s"
                time.sleep(0.3)
        assert specs["plsim"]["spec"]["display_name"] == "Python (plsim)"
        assert specs["plsim"]["spec"]["argv"][0].startswith(str(REPO / ".venv"))
    finally:
        server.terminate()
        server.wait(timeout=30)
