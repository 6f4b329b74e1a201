"""plsim worker SCHEDULER: a Dask worker in plsim's environment that serves --scheduler runs; a
scheduler that does not answer is one line within a few seconds, for plsim worker and --scheduler."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

import plsim
from conftest import TINY_PATH

PLSIM = str(Path(sys.executable).parent / "plsim")
#: A port nothing listens on (tcpmux): connections are refused, and Dask retries until its timeout.
NOBODY = "tcp://127.0.0.1:1"


def _one_line_failure(args, seconds: float) -> str:
    started = time.monotonic()
    done = subprocess.run([PLSIM, *args], capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - started
    assert done.returncode == 2, done.stderr
    assert elapsed < seconds, f"took {elapsed:.1f} s"
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    return done.stderr


def test_a_scheduler_that_does_not_answer_is_one_line_within_a_few_seconds():
    line = _one_line_failure(["worker", NOBODY], seconds=12)
    assert line.startswith(f"plsim worker: cannot reach a Dask scheduler at {NOBODY}: no answer within 3 s")
    assert "dask_scheduler" in line
    line = _one_line_failure(["worker", "localhost"], seconds=12)
    assert "not a scheduler address" in line and "tcp://HOST:PORT" in line
    line = _one_line_failure(["ensemble", str(TINY_PATH), "--seeds", "2", "--scheduler", NOBODY], seconds=12)
    assert line.startswith(f"plsim ensemble: cannot reach a Dask scheduler at {NOBODY}")


def test_plsim_worker_runs_an_ensemble_sent_to_its_scheduler_in_plsims_environment(tmp_path):
    from dask.distributed import Client

    file = tmp_path / "scheduler.json"
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", "0", "--no-dashboard", "--scheduler-file", str(file)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = client = None
    try:
        deadline = time.monotonic() + 60
        while not file.exists() or not file.read_text().strip():
            assert scheduler.poll() is None and time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.1)
        address = json.loads(file.read_text())["address"]
        with open(tmp_path / "worker.log", "w") as log:  # a file: a pipe nobody reads could fill and block it
            worker = subprocess.Popen([PLSIM, "worker", address, "--nthreads", "1"], stdout=subprocess.DEVNULL,
                                      stderr=log)
        client = Client(address, timeout=10)
        client.wait_for_workers(1, timeout=60)
        # The worker runs plsim's interpreter (a `dask worker` of the system Python cannot import plsim).
        assert list(client.run(lambda: sys.executable).values()) == [sys.executable]
        remote = plsim.ensemble(str(TINY_PATH), seeds=[1, 2], client=client, progress=False)
        local = plsim.ensemble(str(TINY_PATH), seeds=[1, 2], progress=False)
        pd.testing.assert_frame_equal(remote.effects, local.effects)
    finally:
        if client is not None:
            client.close()
        for process in (worker, scheduler):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
    assert "plsim worker: serving" in (tmp_path / "worker.log").read_text()
