#!/usr/bin/env python3
"""Mutation testing of plsim: how many deliberate one-line bugs in the engine the test suites catch.

Each mutant of bench/mutation/mutants.json replaces one exact substring ("find", which must occur
exactly once in its file) by a mutated text ("replace"). For each selected mutant this script

  1. keeps a scratch copy of the repository's tracked files in build/mutation/src (synchronised with
     the working tree, or with HEAD under --committed, at start, then re-used: only the mutated file is
     rewritten, and restored after),
  2. applies the mutant there (never in the working tree),
  3. rebuilds incrementally: the C++ tests in build/mutation/cpp (Ninja, Release, no bench, no Python
     module), and the Python package, pip-installed into build/mutation/venv with its CMake build in
     build/mutation/python,
  4. runs the C++ suite (ctest --stop-on-failure) and, if it passes, the Python suite (pytest -x),
  5. restores the file.

A mutant is killed when a suite fails (or times out: reported as such, counted as killed), survives
when both pass, and is invalid (not counted) when it does not build. Results go to
build/mutation/report.json and report.md; the exit status is 1 when the share killed is below
--threshold, 2 when the tool could not run (a "find" that does not occur exactly once, the unmutated
suites failing, a build of the unmutated tree failing).

Standard library only. On demand, not in CI: the whole list takes about an hour on 2 cores.
See bench/mutation/README.md.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DEFAULT_MUTANTS = HERE / "mutants.json"
DEFAULT_WORK = ROOT / "build" / "mutation"
ALLOWED_PREFIXES = ("engine/src/", "engine/include/", "bindings/")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
# Left out of the Python suite unless --full: slow, and they test presentation, not mechanisms.
SLOW_PYTHON_TESTS = ("tests/python/test_notebooks.py", "tests/python/test_report.py")
# The baseline pin: headline figures of shipped scenarios compared bit for bit, which any change of any
# draw fails. Run last and apart, so that a report says which mutants only the pin kills (the share
# killed without it is what the suites' statements of mechanisms catch). The C++ suite pins nothing.
PIN_TESTS = ("tests/python/test_baseline.py",)


class ToolError(Exception):
    """The tool cannot run (exit status 2)."""


# ----------------------------------------------------------------------------------------------
# Mutants


def load_mutants(path: Path) -> list[dict]:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ToolError(f"{path}: {e}") from e
    if not isinstance(data, list):
        raise ToolError(f"{path}: expected a JSON list of mutants")
    problems, seen = [], set()
    for n, m in enumerate(data):
        where = f"{path.name}[{n}]"
        if not isinstance(m, dict):
            problems.append(f"{where}: not an object")
            continue
        for key in ("id", "file", "find", "replace", "mechanism"):
            if not isinstance(m.get(key), str):
                problems.append(f"{where}: '{key}' must be a string")
        extra = set(m) - {"id", "file", "find", "replace", "mechanism"}
        if extra:
            problems.append(f"{where}: unknown keys {sorted(extra)}")
        if any(not isinstance(m.get(k), str) for k in ("id", "file", "find", "replace", "mechanism")):
            continue
        where = f"mutant {m['id']}"
        if not ID_PATTERN.match(m["id"]):
            problems.append(f"{where}: id must be a short lower-case slug ({ID_PATTERN.pattern})")
        if m["id"] in seen:
            problems.append(f"{where}: duplicate id")
        seen.add(m["id"])
        if not m["file"].startswith(ALLOWED_PREFIXES) or ".." in Path(m["file"]).parts:
            problems.append(f"{where}: file must lie under {' or '.join(ALLOWED_PREFIXES)} (got {m['file']})")
        if not m["find"]:
            problems.append(f"{where}: empty find")
        if m["find"] == m["replace"]:
            problems.append(f"{where}: replace equals find (no mutation)")
        if not m["mechanism"].strip():
            problems.append(f"{where}: empty mechanism")
    if problems:
        raise ToolError("invalid mutant list:\n  " + "\n  ".join(problems))
    return data


def select(mutants: list[dict], only: str | None, first: int | None) -> list[dict]:
    chosen = mutants
    if only:
        wanted = [s.strip() for s in only.split(",") if s.strip()]
        known = {m["id"] for m in mutants}
        unknown = [w for w in wanted if w not in known]
        if unknown:
            raise ToolError(f"--only: no mutant called {', '.join(unknown)} (see --list)")
        chosen = [m for m in mutants if m["id"] in set(wanted)]
    if first is not None:
        chosen = chosen[:first]
    return chosen


def occurrences(text: str, find: str) -> int:
    count, start = 0, 0
    while True:
        i = text.find(find, start)
        if i < 0:
            return count
        count, start = count + 1, i + 1


def mutation_problems(mutants: list[dict], read) -> list[str]:
    """Why each mutant would not apply exactly once to the sources `read(path)` gives (empty: all apply)."""
    problems = []
    for m in mutants:
        try:
            text = read(m["file"])
        except OSError as e:
            problems.append(f"{m['id']}: {m['file']}: {e.strerror}")
            continue
        n = occurrences(text, m["find"])
        if n != 1:
            problems.append(f"{m['id']}: 'find' occurs {n} times in {m['file']} (must be exactly once): "
                            f"{m['find']!r}")
    return problems


def mutated_text(m: dict, text: str) -> str:
    n = occurrences(text, m["find"])
    if n != 1:
        raise ToolError(f"{m['id']}: 'find' occurs {n} times in {m['file']} (must be exactly once)")
    return text.replace(m["find"], m["replace"], 1)


# ----------------------------------------------------------------------------------------------
# The scratch copy


def git_files(untracked: bool) -> list[str]:
    cmd = ["git", "-C", str(ROOT), "ls-files", "-z", "--cached"]
    if untracked:
        cmd += ["--others", "--exclude-standard"]
    try:
        out = subprocess.run(cmd, check=True, capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise ToolError(f"git ls-files failed: {e}") from e
    files = sorted({f for f in out.decode().split("\0") if f})
    # Never copy the scratch area into itself, nor this tool's own folder (not part of the build).
    return [f for f in files if not f.startswith(("build/", "bench/mutation/"))]


def write_file(path: Path, data: bytes, mode: int | None = None) -> None:
    """Writes `data` with a fresh modification time, so that Ninja rebuilds what depends on it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".mutation-tmp")
    tmp.write_bytes(data)
    if mode is not None:
        os.chmod(tmp, mode)
    os.replace(tmp, path)


def working_tree_sources(untracked: bool):
    """(path, bytes, mode) of each tracked file as it is in the working tree."""
    for rel in git_files(untracked):
        origin = ROOT / rel
        if origin.is_symlink() or not origin.is_file():
            continue  # deleted in the working tree (or a symlink: none in this project)
        yield rel, origin.read_bytes(), origin.stat().st_mode & 0o777


def committed_sources():
    """(path, bytes, mode) of each file of HEAD, whatever the working tree holds."""
    try:
        listing = subprocess.run(["git", "-C", str(ROOT), "ls-tree", "-r", "-z", "HEAD"], check=True,
                                 capture_output=True).stdout.decode()
    except (OSError, subprocess.CalledProcessError) as e:
        raise ToolError(f"git ls-tree failed: {e}") from e
    entries = []
    for item in filter(None, listing.split("\0")):
        meta, rel = item.split("\t", 1)
        mode, kind, sha = meta.split()
        if kind == "blob" and mode in ("100644", "100755") and not rel.startswith(("build/", "bench/mutation/")):
            entries.append((rel, sha, 0o755 if mode == "100755" else 0o644))
    batch = subprocess.run(["git", "-C", str(ROOT), "cat-file", "--batch"], check=True, capture_output=True,
                           input="".join(sha + "\n" for _, sha, _ in entries).encode()).stdout
    pos = 0
    for rel, sha, mode in entries:
        header_end = batch.index(b"\n", pos)
        size = int(batch[pos:header_end].split()[2])
        data = batch[header_end + 1:header_end + 1 + size]
        pos = header_end + 1 + size + 1
        yield rel, data, mode


def read_source(rel: str, committed: bool) -> str:
    """One file of the sources the tool tests (the working tree's, or HEAD's with --committed)."""
    if not committed:
        return (ROOT / rel).read_text()
    try:
        return subprocess.run(["git", "-C", str(ROOT), "show", f"HEAD:{rel}"], check=True,
                              capture_output=True).stdout.decode()
    except subprocess.CalledProcessError as e:
        raise OSError(2, "not in HEAD") from e


def sync_scratch(src: Path, untracked: bool, committed: bool) -> tuple[str, int]:
    """Makes `src` hold exactly the repository's tracked files as they are in the working tree (or in
    HEAD). Unchanged files are left alone (incremental builds). Returns the tree's hash and how many
    files were (re)written."""
    manifest = src.parent / "src.manifest"
    old = set(manifest.read_text().splitlines()) if manifest.exists() else set()
    digest, written, kept = hashlib.sha256(), 0, []
    for rel, data, mode in (committed_sources() if committed else working_tree_sources(untracked)):
        digest.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
        target = src / rel
        if not target.is_file() or target.read_bytes() != data:
            write_file(target, data, mode)
            written += 1
        kept.append(rel)
    for rel in sorted(old - set(kept)):
        stale = src / rel
        if stale.is_file():
            stale.unlink()
    manifest.write_text("\n".join(kept) + "\n")
    return digest.hexdigest(), written


# ----------------------------------------------------------------------------------------------
# Running commands


class Timeout(Exception):
    pass


class Runner:
    def __init__(self, args: argparse.Namespace, work: Path):
        self.args = args
        self.work = work
        self.src = work / "src"
        self.cpp = work / "cpp"
        self.pybuild = work / "python"
        self.venv = work / "venv"
        self.python = self.venv / "bin" / "python"
        self.logs = work / "logs"

    def hint(self) -> str:
        if self.args.committed:
            return ""
        return ("; the working tree may be mid-edit or need files git does not track yet: "
                "--untracked copies those too, --committed tests HEAD")

    def nice(self, cmd: list[str]) -> list[str]:
        return (["nice", "-n", str(self.args.nice)] + cmd) if self.args.nice > 0 else cmd

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PLSIM_")}
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        return env

    def run(self, cmd: list[str], log, *, cwd: Path | None = None, env: dict | None = None,
            timeout: float | None = None) -> int:
        """Runs `cmd` in its own process group, output appended to `log`; on timeout or Ctrl-C the
        group it started is ended (by its id) and Timeout or KeyboardInterrupt raised."""
        log.write(f"\n$ {' '.join(shlex.quote(c) for c in cmd)}\n")
        log.flush()
        proc = subprocess.Popen(cmd, cwd=cwd or self.src, env=env or self.env(), stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop(proc)
            log.write(f"\n[timed out after {timeout:.0f} s]\n")
            raise Timeout() from None
        except BaseException:
            self.stop(proc)
            raise

    def has_hypothesis(self) -> bool:
        if not hasattr(self, "_hypothesis"):
            probe = subprocess.run([str(self.python), "-c", "import hypothesis"], capture_output=True)
            self._hypothesis = probe.returncode == 0
        return self._hypothesis

    @staticmethod
    def stop(proc: subprocess.Popen) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                proc.wait(timeout=10)
                return
            except subprocess.TimeoutExpired:
                continue

    # -- builds -------------------------------------------------------------------------------

    def job_pool_args(self) -> list[str]:
        # setup.py builds with a bare `cmake --build --parallel` (Ninja's default: cores + 2 jobs); a
        # Ninja job pool keeps that build, like ours, to --parallel jobs.
        n = self.args.parallel
        return [f"-DCMAKE_JOB_POOLS=mutation={n}", "-DCMAKE_JOB_POOL_COMPILE=mutation",
                "-DCMAKE_JOB_POOL_LINK=mutation"]

    def configure(self, log) -> None:
        if (self.cpp / "CMakeCache.txt").exists() and (self.cpp / "build.ninja").exists():
            return
        cmd = ["cmake", "-S", str(self.src), "-B", str(self.cpp), "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
               "-DPLSIM_BUILD_BENCH=OFF", "-DPLSIM_BUILD_PYTHON=OFF", "-DPLSIM_BUILD_TESTS=ON",
               "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON"] + self.job_pool_args()
        if self.run(self.nice(cmd), log, timeout=self.args.build_timeout) != 0:
            raise ToolError(f"configuring the C++ build failed (see {log.name}){self.hint()}")

    def ensure_venv(self, log) -> None:
        if self.python.exists():
            return
        cmd = ["/usr/bin/python3", "-m", "venv", "--system-site-packages", str(self.venv)]
        if self.run(cmd, log, timeout=300) != 0:
            raise ToolError(f"creating {self.venv} failed (see {log.name})")

    def build_cpp(self, log) -> bool:
        cmd = ["cmake", "--build", str(self.cpp), "--parallel", str(self.args.parallel)]
        return self.run(self.nice(cmd), log, timeout=self.args.build_timeout) == 0

    def install_python(self, log) -> bool:
        env = self.env()
        env["PLSIM_BUILD_DIR"] = str(self.pybuild)
        env["PLSIM_CMAKE_ARGS"] = " ".join(self.job_pool_args() + ["-DCMAKE_EXPORT_COMPILE_COMMANDS=ON"])
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        cmd = [str(self.python), "-m", "pip", "install", "--no-index", "--no-build-isolation", "--no-deps",
               "--force-reinstall", "--quiet", "."]
        return self.run(self.nice(cmd), log, env=env, timeout=self.args.build_timeout) == 0

    # -- suites -------------------------------------------------------------------------------

    def ctest(self, log, timeout: float) -> tuple[bool, str]:
        start = log_size(log)
        cmd = ["ctest", "--test-dir", str(self.cpp), "-j", str(self.args.parallel), "--stop-on-failure",
               "--output-on-failure"]
        ok = self.run(cmd, log, timeout=timeout) == 0
        return ok, "" if ok else first_failure(read_from(log, start), "cpp")

    def pytest(self, log, timeout: float, pin: bool = False) -> tuple[bool, str]:
        """The Python suite without the baseline pin, or (pin=True) the pin alone."""
        start = log_size(log)
        cmd = [str(self.python), "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
        if pin:
            cmd += list(PIN_TESTS)
        else:
            cmd += ["tests/python"] + [f"--ignore={t}" for t in PIN_TESTS]
        if not self.args.full and not pin:
            cmd += [f"--ignore={t}" for t in SLOW_PYTHON_TESTS]
        if self.args.hypothesis_seed >= 0 and self.has_hypothesis():
            cmd.append(f"--hypothesis-seed={self.args.hypothesis_seed}")
        cmd += shlex.split(self.args.pytest_args)
        # A fresh example database each time: examples that failed on one mutant are not replayed on
        # the next, so each result depends on its mutant and the seed alone.
        env = self.env()
        storage = self.work / "hypothesis"
        shutil.rmtree(storage, ignore_errors=True)
        env["HYPOTHESIS_STORAGE_DIRECTORY"] = str(storage)
        ok = self.run(cmd, log, env=env, timeout=timeout) == 0
        return ok, "" if ok else first_failure(read_from(log, start), "python")


def open_log(path: Path):
    """A fresh log opened for appending: this process and the commands it runs all write at its end."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("")
    return open(path, "a", errors="replace")


def log_size(log) -> int:
    log.flush()
    return os.path.getsize(log.name)


def read_from(log, start: int) -> str:
    log.flush()
    with open(log.name, "rb") as f:
        f.seek(start)
        return f.read().decode(errors="replace")


def first_failure(output: str, suite: str) -> str:
    """The first failing test named in a suite's output, or its last meaningful line."""
    if suite == "cpp":
        m = re.search(r"The following tests FAILED:\s*\n\s*\d+\s*-\s*(.+?)\s*\((\w+)\)", output)
        if m:
            return f"{m.group(1)} ({m.group(2)})"
    else:
        m = re.search(r"^(?:FAILED|ERROR) (\S+)", output, re.M)
        if m:
            return m.group(1)
    lines = [l.strip() for l in output.splitlines() if l.strip() and not l.startswith("$ ")]
    return lines[-1][:200] if lines else "(no output)"


# ----------------------------------------------------------------------------------------------
# Reports


def pin_only(r: dict) -> bool:
    """Killed (or timed out) by the baseline pin alone: every other test passed."""
    return r["result"] in ("killed", "timeout") and r["suite"] == "pin"


def write_reports(work: Path, results: list[dict], meta: dict) -> tuple[float | None, dict]:
    counts = {k: sum(r["result"] == k for r in results) for k in ("killed", "timeout", "survived", "invalid")}
    counts["pin_only"] = sum(pin_only(r) for r in results)
    scored = counts["killed"] + counts["timeout"] + counts["survived"]
    share = (counts["killed"] + counts["timeout"]) / scored if scored else None
    without_pin = (counts["killed"] + counts["timeout"] - counts["pin_only"]) / scored if scored else None
    report = dict(meta, counts=counts, scored=scored, share_killed=share, share_killed_without_pin=without_pin,
                  mutants=results)
    (work / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = ["# Mutation testing report", "",
             f"- when: {meta['finished'] or meta['started']} ({'complete' if meta['finished'] else 'in progress'})",
             f"- sources: {meta['tree_hash'][:12]} ({meta['source']} of {ROOT})",
             f"- Python suite: {'not run (--cpp-only)' if meta.get('cpp_only') else 'full' if meta['full'] else 'without ' + ', '.join(SLOW_PYTHON_TESTS)}"
             f"{'; pytest ' + meta['pytest_args'] if meta['pytest_args'] else ''}"
             f"; hypothesis seed {meta['hypothesis_seed']}",
             f"- timeout per mutant: {meta['timeout']} s (suites)",
             f"- killed {counts['killed']}, timed out {counts['timeout']} (counted as killed), "
             f"survived {counts['survived']}, invalid {counts['invalid']} (not counted)",
             f"- share killed: {'n/a' if share is None else f'{share:.1%}'} (threshold {meta['threshold']:.0%})"
             + ("; the baseline pin was not run (--no-pin)" if meta.get("no_pin") else ""),
             f"- share killed without the baseline pin ({', '.join(PIN_TESTS)}): "
             f"{'n/a' if without_pin is None else f'{without_pin:.1%}'} ({counts['pin_only']} killed by the pin alone)",
             "", "| id | result | killed by | first failure | seconds | mechanism |",
             "| --- | --- | --- | --- | ---: | --- |"]
    for r in results:
        cell = lambda s: str(s).replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {r['id']} | {r['result']} | {r['suite'] or ''} | {cell(r['failure'] or '')} | "
                     f"{r['seconds']:.0f} | {cell(r['mechanism'])} |")
    survivors = [r for r in results if r["result"] == "survived"]
    if survivors:
        lines += ["", "## Survivors: mechanisms no test checks", ""]
        lines += [f"- `{r['id']}` ({r['file']}): {r['mechanism']}" for r in survivors]
    pinned = [r for r in results if pin_only(r)]
    if pinned:
        lines += ["", "## Killed by the baseline pin alone: no test states these mechanisms", ""]
        lines += [f"- `{r['id']}` ({r['file']}): {r['mechanism']}" for r in pinned]
    (work / "report.md").write_text("\n".join(lines) + "\n")
    return share, counts


def print_table(results: list[dict]) -> None:
    w = max([len(r["id"]) for r in results] + [2])
    print(f"\n{'id':<{w}}  {'result':<8}  {'killed by':<9}  {'seconds':>7}  first failure")
    for r in results:
        print(f"{r['id']:<{w}}  {r['result']:<8}  {r['suite'] or '-':<9}  {r['seconds']:>7.0f}  {r['failure'] or ''}")


# ----------------------------------------------------------------------------------------------
# Commands


def take_lock(work: Path):
    """One run per scratch area: two would mutate, build and restore the same files under each other."""
    lock = open(work / "lock", "a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = lock.read().strip() or "?"
        raise ToolError(f"{work} is in use by another run of this tool (pid {holder}); wait for it to end, "
                        f"or give this run a scratch area of its own with --work DIR") from None
    lock.seek(0)
    lock.truncate()
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    return lock


def cmd_list(mutants: list[dict]) -> int:
    w = max(len(m["id"]) for m in mutants)
    for m in mutants:
        print(f"{m['id']:<{w}}  {m['file']}\n{'':<{w}}  {m['mechanism']}")
    print(f"\n{len(mutants)} mutants")
    return 0


def cmd_check(mutants: list[dict], selected: list[dict], committed: bool) -> int:
    problems = mutation_problems(selected, lambda rel: read_source(rel, committed))
    files = sorted({m["file"] for m in selected})
    for p in problems:
        print("FAIL", p)
    if problems:
        print(f"\n{len(problems)} of {len(selected)} mutants do not apply exactly once", file=sys.stderr)
        return 1
    print(f"ok: all {len(selected)} mutants apply exactly once ({len(files)} files; {len(mutants)} in the list)")
    return 0


def prepare(runner: Runner, args, log) -> str:
    """Synchronises the scratch copy with the sources (the working tree, or HEAD); returns their hash."""
    runner.src.mkdir(parents=True, exist_ok=True)
    tree_hash, written = sync_scratch(runner.src, args.untracked, args.committed)
    print(f"scratch copy {runner.src} ({'HEAD' if args.committed else 'working tree'}): "
          f"{written} files (re)written", flush=True)
    return tree_hash


def baseline(runner: Runner, args, tree_hash: str, log) -> None:
    stamp = runner.work / "baseline.json"
    key = {"tree_hash": tree_hash, "full": bool(args.full), "pytest_args": args.pytest_args,
           "hypothesis_seed": args.hypothesis_seed, "no_pin": bool(args.no_pin), "cpp_only": bool(args.cpp_only)}
    print("building the unmutated tree (the first build takes several minutes) ...", flush=True)
    t0 = time.monotonic()
    runner.configure(log)
    runner.ensure_venv(log)
    if not runner.build_cpp(log):
        raise ToolError(f"the unmutated C++ build failed (see {log.name}){runner.hint()}")
    if not args.cpp_only and not runner.install_python(log):
        raise ToolError(f"the unmutated Python install failed (see {log.name}){runner.hint()}")
    print(f"  built in {time.monotonic() - t0:.0f} s", flush=True)
    if args.no_baseline:
        print("  baseline suites not run (--no-baseline)")
        return
    if stamp.exists():
        try:
            old = json.loads(stamp.read_text())
        except json.JSONDecodeError:
            old = {}
        if all(old.get(k) == v for k, v in key.items()) and old.get("passed"):
            print(f"  baseline: the suites passed on these sources before "
                  f"(C++ {old['cpp_seconds']:.0f} s, Python {old['python_seconds']:.0f} s)")
            return
    print("running both suites on the unmutated tree ...", flush=True)
    limit = max(args.timeout, 3600)

    def passing_seconds(suite, name: str) -> float:
        """Seconds the suite takes on the unmutated tree; it must pass."""
        t = time.monotonic()
        try:
            ok, failure = suite(log, limit)
        except Timeout:
            ok, failure = False, f"timed out after {limit} s"
        if not ok:
            raise ToolError(f"the {name} suite fails on the unmutated tree: {failure} (see {log.name})")
        return time.monotonic() - t

    cpp_seconds = passing_seconds(runner.ctest, "C++")
    python_seconds = 0.0 if args.cpp_only else passing_seconds(runner.pytest, "Python")
    if not args.no_pin and not args.cpp_only:
        python_seconds += passing_seconds(lambda log, limit: runner.pytest(log, limit, pin=True), "baseline pin")
    print(f"  baseline passed: C++ {cpp_seconds:.0f} s, Python {python_seconds:.0f} s", flush=True)
    if cpp_seconds + python_seconds > 0.8 * args.timeout:
        print(f"  WARNING: the unmutated suites take {cpp_seconds + python_seconds:.0f} s, close to --timeout "
              f"{args.timeout} s: survivors may be reported as timeouts; raise --timeout", flush=True)
    stamp.write_text(json.dumps(dict(key, passed=True, cpp_seconds=cpp_seconds, python_seconds=python_seconds)))


def run_mutant(runner: Runner, m: dict, args) -> dict:
    path = runner.src / m["file"]
    original = path.read_bytes()
    mode = path.stat().st_mode & 0o777
    result = {"id": m["id"], "file": m["file"], "mechanism": m["mechanism"], "result": None, "suite": None,
              "failure": None, "seconds": 0.0, "build_seconds": 0.0, "test_seconds": 0.0}
    runner.logs.mkdir(parents=True, exist_ok=True)
    log_path = runner.logs / f"{m['id']}.log"
    t0 = time.monotonic()
    with open_log(log_path) as log:
        log.write(f"mutant {m['id']}: {m['mechanism']}\n{m['file']}\n- {m['find']}\n+ {m['replace']}\n")
        try:
            write_file(path, mutated_text(m, original.decode()).encode(), mode)
            cpp_relevant = not m["file"].startswith("bindings/")  # the C++ suite does not link the bindings
            # Build both first: a mutant that does not compile is invalid, whichever suite would run.
            tb = time.monotonic()
            built = (not cpp_relevant or runner.build_cpp(log)) and (args.cpp_only or runner.install_python(log))
            result["build_seconds"] = time.monotonic() - tb
            if not built:
                result.update(result="invalid", failure="does not build")
                return result
            deadline = time.monotonic() + args.timeout
            tt = time.monotonic()
            suite = "cpp"
            try:
                ok, failure = runner.ctest(log, deadline - time.monotonic()) if cpp_relevant else (True, "")
                if ok and not args.cpp_only:
                    suite = "python"
                    ok, failure = runner.pytest(log, max(1.0, deadline - time.monotonic()))
                if ok and not args.no_pin and not args.cpp_only:
                    suite = "pin"  # only the baseline pin is left to fail
                    ok, failure = runner.pytest(log, max(1.0, deadline - time.monotonic()), pin=True)
            except Timeout:
                result.update(result="timeout", suite=suite, failure=f"timed out after {args.timeout} s")
                return result
            finally:
                result["test_seconds"] = time.monotonic() - tt
            if ok:
                result.update(result="survived")
            else:
                result.update(result="killed", suite=suite, failure=failure)
            return result
        except Timeout:  # a build that timed out
            result.update(result="invalid", failure=f"build timed out after {args.build_timeout} s")
            return result
        finally:
            write_file(path, original, mode)  # restored with a fresh time, so the next build recompiles it
            result["seconds"] = time.monotonic() - t0
            log.write(f"\nresult: {result['result']} {result['suite'] or ''} {result['failure'] or ''}\n")


def cmd_compile_only(runner: Runner, selected: list[dict], log) -> int:
    """Compiles each mutated translation unit alone (-fsyntax-only), without linking or tests."""
    commands = {}
    for build in (runner.cpp, runner.pybuild):
        db = build / "compile_commands.json"
        if db.exists():
            for entry in json.loads(db.read_text()):
                commands[str(Path(entry["directory"], entry["file"]).resolve())] = entry
    bad = 0
    for m in selected:
        path = runner.src / m["file"]
        entry = commands.get(str(path.resolve()))
        if entry is None:
            print(f"{m['id']:<40} ?  no compile command for {m['file']}")
            bad += 1
            continue
        original = path.read_bytes()
        mode = path.stat().st_mode & 0o777
        try:
            write_file(path, mutated_text(m, original.decode()).encode(), mode)
            argv = entry["arguments"] if "arguments" in entry else shlex.split(entry["command"])
            argv = [a for a in argv] + ["-fsyntax-only"]
            ok = runner.run(runner.nice(argv), log, cwd=Path(entry["directory"]), timeout=600) == 0
        finally:
            write_file(path, original, mode)
        bad += not ok
        print(f"{m['id']:<40} {'compiles' if ok else 'DOES NOT COMPILE'}", flush=True)
    print(f"\n{len(selected) - bad} of {len(selected)} mutants compile")
    return 0 if bad == 0 else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="See bench/mutation/README.md.")
    p.add_argument("--mutants", type=Path, default=DEFAULT_MUTANTS, help="the mutant list (default: %(default)s)")
    p.add_argument("--only", metavar="ID,ID", help="run only these mutants")
    p.add_argument("--first", type=int, metavar="N", help="run only the first N (selected) mutants")
    p.add_argument("--list", action="store_true", help="list the mutants and exit")
    p.add_argument("--check", action="store_true",
                   help="only check that each 'find' occurs exactly once in the current sources (no build)")
    p.add_argument("--compile-only", action="store_true",
                   help="only compile each mutated file alone (-fsyntax-only; needs one earlier run's builds)")
    p.add_argument("--full", action="store_true", help="include " + " and ".join(SLOW_PYTHON_TESTS))
    p.add_argument("--threshold", type=float, default=0.9, help="least share killed for exit status 0 (default 0.9)")
    p.add_argument("--timeout", type=float, default=600, help="seconds of tests per mutant (default 600)")
    p.add_argument("--build-timeout", type=float, default=1800, help="seconds per build step (default 1800)")
    p.add_argument("--parallel", type=int, default=2, help="build and ctest jobs (default 2)")
    p.add_argument("--nice", type=int, default=10, help="niceness of the builds (default 10; 0: none)")
    p.add_argument("--work", type=Path, default=DEFAULT_WORK, help="scratch area (default: %(default)s)")
    p.add_argument("--untracked", action="store_true",
                   help="copy untracked, not ignored files too (e.g. a new test not yet added to git)")
    p.add_argument("--committed", action="store_true",
                   help="test the files of HEAD instead of the working tree (while someone edits it)")
    p.add_argument("--no-baseline", action="store_true", help="do not run the suites on the unmutated tree first")
    p.add_argument("--cpp-only", action="store_true",
                   help="run the C++ suite alone (no Python build, no pytest; mutants of bindings/ are skipped): "
                        "a quick lower bound of the share killed, without the pin")
    p.add_argument("--no-pin", action="store_true",
                   help="never run the baseline pin (" + ", ".join(PIN_TESTS) + "): a survivor of the other tests "
                        "is reported survived (the share killed is then the share without the pin)")
    p.add_argument("--pytest-args", default="", metavar="ARGS",
                   help="more pytest arguments, e.g. \"--deselect tests/python/test_x.py::test_y\"")
    p.add_argument("--hypothesis-seed", type=int, default=0, metavar="N",
                   help="seed of the hypothesis property tests, so that the Python suite is deterministic "
                        "(default 0; -1: random)")
    args = p.parse_args(argv)
    if args.parallel < 1:
        p.error("--parallel must be at least 1")
    # Started in the background by a shell (`run.py &`), this process and all it starts would ignore
    # SIGINT, and the suites' Ctrl-C tests (os.kill(SIGINT)) would fail on every tree. A handled SIGINT
    # is reset to the default in the commands it starts.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)

    try:
        mutants = load_mutants(args.mutants)
        selected = select(mutants, args.only, args.first)
        if args.list or args.check:
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet when piped into head
        if args.list:
            return cmd_list(selected)
        if args.check:
            return cmd_check(mutants, selected, args.committed)
        if args.cpp_only:
            selected = [m for m in selected if not m["file"].startswith("bindings/")]
        if not selected:
            raise ToolError("no mutant selected")
        work = args.work.resolve()
        if work == ROOT or work in ROOT.parents:
            raise ToolError(f"--work {work}: must be a folder of its own (it gets a copy of the repository)")
        work.mkdir(parents=True, exist_ok=True)
        lock = take_lock(work)  # held until this process ends
        runner = Runner(args, work)
        runner.logs.mkdir(parents=True, exist_ok=True)
        with open_log(runner.logs / "setup.log") as log:
            tree_hash = prepare(runner, args, log)
            problems = mutation_problems(selected, lambda rel: (runner.src / rel).read_text())
            if problems:
                raise ToolError("mutants that do not apply exactly once:\n  " + "\n  ".join(problems))
            if args.compile_only:
                if not (runner.cpp / "compile_commands.json").exists():
                    runner.configure(log)
                return cmd_compile_only(runner, selected, log)
            baseline(runner, args, tree_hash, log)
    except ToolError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    meta = {"started": _dt.datetime.now().isoformat(timespec="seconds"), "finished": None, "tree_hash": tree_hash,
            "full": bool(args.full), "pytest_args": args.pytest_args, "hypothesis_seed": args.hypothesis_seed,
            "timeout": args.timeout, "threshold": args.threshold, "no_pin": bool(args.no_pin or args.cpp_only),
            "cpp_only": bool(args.cpp_only),
            "source": "HEAD" if args.committed else "working tree", "selected": [m["id"] for m in selected]}
    results: list[dict] = []
    try:
        for n, m in enumerate(selected, 1):
            print(f"[{n}/{len(selected)}] {m['id']} ({m['file']}) ...", end=" ", flush=True)
            try:
                r = run_mutant(runner, m, args)
            except ToolError as e:
                print(f"error: {e}", file=sys.stderr)
                return 2
            results.append(r)
            detail = f" by {r['suite']}: {r['failure']}" if r["suite"] else (f": {r['failure']}" if r["failure"] else "")
            print(f"{r['result']}{detail} ({r['seconds']:.0f} s)", flush=True)
            write_reports(work, results, meta)
    except KeyboardInterrupt:
        print("\ninterrupted: the scratch file was restored; partial report written", file=sys.stderr)
        write_reports(work, results, meta)
        return 130
    meta["finished"] = _dt.datetime.now().isoformat(timespec="seconds")
    share, counts = write_reports(work, results, meta)
    print_table(results)
    print(f"\nkilled {counts['killed']}, timed out {counts['timeout']}, survived {counts['survived']}, "
          f"invalid {counts['invalid']}")
    if share is None:
        print("share killed: n/a (no mutant built)")
        return 1
    scored = counts["killed"] + counts["timeout"] + counts["survived"]
    print(f"share killed: {share:.1%} (threshold {args.threshold:.0%}); without the baseline pin: "
          f"{(counts['killed'] + counts['timeout'] - counts['pin_only']) / scored:.1%} "
          f"({counts['pin_only']} killed by the pin alone{', pin not run' if args.no_pin or args.cpp_only else ''}); "
          f"reports: {work / 'report.md'}, {work / 'report.json'}")
    return 0 if share >= args.threshold else 1


if __name__ == "__main__":
    sys.exit(main())
