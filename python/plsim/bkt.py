"""Bayesian Knowledge Tracing fitted to response logs (the engine's EM, plsim/bkt.hpp).

>>> log = plsim.bkt.read_responses("builder_train.csv")      # tidy CSV, or the three-line format
>>> fitted = plsim.bkt.fit(log, forgets=False, restarts=5, seed=0)
>>> fitted.params                                            # one row per skill
>>> fitted.auc(plsim.bkt.read_responses("builder_test.csv"))

A log has one row per response: a skill, a student and whether the response was correct (0/1 or
False/True), in time order within each student, or with an `order` column (a time or an order id) the
responses are sorted by. Each (skill, student) pair is one sequence of opportunities. A log that looks
shuffled is warned about, and degenerate fits are flagged per skill (plsim.bkt_checks). Skills a
prediction meets that the fit never saw are predicted with the median of the fitted skills' parameters
(`BKTFit.fallback`).
"""
from __future__ import annotations

import json
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Union

import numpy as np
import pandas as pd

from . import _core
from .safe_io import json_ready
from .bkt_checks import FLAGS, check_order, degenerate_flags, learning_trend, order_keys

PARAMETERS = ["prior", "learn", "forget", "guess", "slip"]
Log = Union[pd.DataFrame, str, os.PathLike]


class ResponseLogError(ValueError):
    """A response log plsim cannot fit: the message names the file or column and what is wrong."""


class ResponseOrderWarning(UserWarning):
    """The responses of a log look out of time order (plsim.bkt_checks.check_order says why)."""


def read_sequences(path: Union[str, os.PathLike]) -> pd.DataFrame:
    """A knowledge-tracing file of three lines per student (the number of responses, the skills, the
    correctness, comma-separated; trailing commas allowed) as a log with columns student (the
    student's block, from 0), skill and correct."""
    path = Path(path)
    lines = path.read_text().splitlines()
    if len(lines) % 3:
        raise ResponseLogError(f"{path}: expected three lines per student, found {len(lines)} lines")
    students, skills, correct = [], [], []
    for block in range(len(lines) // 3):
        at = 3 * block + 1  # 1-based line number of the block's first line
        count_text = lines[3 * block].strip().rstrip(",")
        try:
            count = int(count_text)
        except ValueError:
            raise ResponseLogError(f"{path}:{at}: expected the number of responses (got {count_text[:40]!r})") from None
        skill_items = [s.strip() for s in lines[3 * block + 1].strip().rstrip(",").split(",")] if count else []
        correct_items = [s.strip() for s in lines[3 * block + 2].strip().rstrip(",").split(",")] if count else []
        if len(skill_items) != count or len(correct_items) != count:
            raise ResponseLogError(f"{path}:{at}: {count} responses announced, {len(skill_items)} skills and "
                                   f"{len(correct_items)} correctness values found")
        if any(s == "" for s in skill_items):
            raise ResponseLogError(f"{path}:{at + 1}: an empty skill id")
        bad = [c for c in correct_items if c not in ("0", "1")]
        if bad:
            raise ResponseLogError(f"{path}:{at + 2}: correctness must be 0 or 1 (got {bad[0][:20]!r})")
        students.append(np.full(count, block, dtype=np.int64))
        skills.extend(skill_items)
        correct.append(np.array(correct_items, dtype=np.uint8))
    skill_values = pd.Series(skills, dtype=object)
    numeric = pd.to_numeric(skill_values, errors="coerce")
    if len(skills) and numeric.notna().all() and (numeric == numeric.round()).all():
        skill_values = numeric.astype(np.int64)
    return pd.DataFrame({"student": np.concatenate(students) if students else np.array([], dtype=np.int64),
                         "skill": skill_values.to_numpy(),
                         "correct": np.concatenate(correct) if correct else np.array([], dtype=np.uint8)})


def read_responses(path: Union[str, os.PathLike]) -> pd.DataFrame:
    """A response log from a file: a CSV with a header (any columns; fit() names the three it uses) or
    the three-line knowledge-tracing format (read_sequences), told apart by the first line."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"responses: no file {str(path)!r}")
    with open(path) as f:
        first = f.readline().strip().rstrip(",")
    if first.isdigit():
        return read_sequences(path)
    return pd.read_csv(path)


@dataclass
class _Grouped:
    """Responses sorted by skill, then student, then time: the flat arrays the engine reads."""

    correct: np.ndarray           # uint8, sorted
    sequence_offsets: np.ndarray  # uint64, boundaries of (skill, student) sequences
    skill_offsets: np.ndarray     # uint64, boundaries of skills, in sequences
    skills: list                  # skill ids, in order
    order: np.ndarray             # row of the log of each sorted response
    students_per_skill: np.ndarray
    student_codes: np.ndarray     # per row of the log: its student, coded


def _columns(log: pd.DataFrame, skill: str, student: str, correct: str, where: str) -> tuple:
    for role, name in (("skill", skill), ("student", student), ("correct", correct)):
        if name not in log.columns:
            raise ResponseLogError(f"{where}: no column {name!r} for the {role} (argument {role}=); the log has "
                                   f"{', '.join(map(str, log.columns)) or 'no columns'}")
    skills, students, answers = log[skill], log[student], log[correct]
    for name, column in ((skill, skills), (student, students)):
        missing = column.isna().to_numpy()
        if missing.any():
            raise ResponseLogError(f"{where}: column {name!r}, row {int(np.flatnonzero(missing)[0])}: empty value "
                                   f"({int(missing.sum())} rows); every response needs a skill and a student")
    values = answers.to_numpy()
    if values.dtype == bool:
        values = values.astype(np.uint8)
    else:
        numeric = pd.to_numeric(answers, errors="coerce").to_numpy(dtype=float)
        bad = ~np.isin(numeric, (0.0, 1.0))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise ResponseLogError(f"{where}: column {correct!r}, row {row}: correctness must be 0 or 1 (got "
                                   f"{answers.iloc[row]!r}; {int(bad.sum())} such rows)")
        values = numeric.astype(np.uint8)
    return skills, students, values


def _group(log: pd.DataFrame, skill: str, student: str, correct: str, where: str,
           skills_order: Optional[list] = None, keys: Optional[np.ndarray] = None) -> _Grouped:
    """Skill codes in `skills_order` (by default every skill of the log, sorted); with a given order, the
    responses of skills not in it form one more group at the end. Within a sequence, responses are in
    the order of `keys` (an order column's values), else in the log's row order."""
    skills, students, values = _columns(log, skill, student, correct, where)
    if skills_order is None:
        codes, uniques = pd.factorize(skills, sort=True)
        skills_order = list(uniques)
    else:
        codes = pd.Index(skills_order).get_indexer(skills)
        codes = np.where(codes < 0, len(skills_order), codes)
    student_codes, _ = pd.factorize(students)
    # Stable: responses of one student in one skill keep their order in the log (among equal keys).
    order = np.lexsort((student_codes, codes) if keys is None else (keys, student_codes, codes))
    c, s = codes[order], student_codes[order]
    new_sequence = np.ones(len(order), dtype=bool)
    new_sequence[1:] = (c[1:] != c[:-1]) | (s[1:] != s[:-1])
    starts = np.flatnonzero(new_sequence)
    groups = len(skills_order) + int(len(c) > 0 and c.max() == len(skills_order))
    counts = np.bincount(c[starts], minlength=groups) if len(starts) else np.zeros(groups, dtype=np.int64)
    return _Grouped(values[order], np.append(starts, len(order)).astype(np.uint64),
                    np.concatenate([[0], np.cumsum(counts)]).astype(np.uint64), skills_order, order, counts,
                    student_codes)


def auc(correct: np.ndarray, predicted: np.ndarray) -> float:
    """Area under the ROC curve: the chance that a correct response is predicted above an incorrect
    one, ties counting half (the Mann-Whitney U statistic over the two counts)."""
    from scipy.stats import rankdata

    correct = np.asarray(correct, dtype=bool)
    positives, negatives = int(correct.sum()), int((~correct).sum())
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = rankdata(predicted)
    return float((ranks[correct].sum() - positives * (positives + 1) / 2) / (positives * negatives))


@dataclass
class BKTFit:
    """A BKT fit: `params` (one row per skill: prior, learn, forget, guess, slip, responses, students,
    log_likelihood, iterations, converged, and `flags`: plsim.bkt_checks.FLAGS its fit raises,
    comma-separated), the total `log_likelihood` of the training log, the `fit_seconds` it took (grouping
    the log and EM), the options, the column names it was fitted on (`order`: None for the log's row
    order) and `order_check`, what plsim.bkt_checks.check_order found of the responses' order."""

    params: pd.DataFrame
    log_likelihood: float
    fit_seconds: float
    options: dict
    columns: dict = field(default_factory=lambda: {"skill": "skill", "student": "student", "correct": "correct",
                                                   "order": None})
    order_check: dict = field(default_factory=dict)

    @property
    def degenerate(self) -> dict:
        """{flag: [skills]} of every flag some skill's fit raises, in the order of FLAGS."""
        out = {flag: [] for flag in FLAGS}
        for skill, flags in self.params["flags"].items():
            for flag in filter(None, flags.split(",")):
                out[flag].append(skill)
        return {flag: skills for flag, skills in out.items() if skills}

    @property
    def fallback(self) -> pd.Series:
        """The parameters used for skills the fit never saw: the median over the fitted skills."""
        return self.params[PARAMETERS].median()

    def predict(self, responses: Log) -> np.ndarray:
        """One-step-ahead P(correct) of each response of a log (in its row order), given the student's
        earlier responses in that skill."""
        log = responses if isinstance(responses, pd.DataFrame) else read_responses(responses)
        where = "responses" if isinstance(responses, pd.DataFrame) else str(responses)
        order = self.columns.get("order")
        keys = order_keys(log, order, where, ResponseLogError) if order else None
        g = _group(log, self.columns["skill"], self.columns["student"], self.columns["correct"], where,
                   list(self.params.index), keys)
        table = self.params[PARAMETERS].to_numpy(dtype=float)
        if len(g.skill_offsets) - 1 > len(table):
            table = np.vstack([table, self.fallback.to_numpy(dtype=float)])
        sorted_predictions = _core.bkt_predict(g.correct, g.sequence_offsets, g.skill_offsets, table)
        out = np.empty(len(log))
        out[g.order] = sorted_predictions
        return out

    def auc(self, responses: Log) -> float:
        """The AUC of the one-step-ahead predictions of a log (plsim.bkt.auc)."""
        log = responses if isinstance(responses, pd.DataFrame) else read_responses(responses)
        _, _, values = _columns(log, self.columns["skill"], self.columns["student"], self.columns["correct"],
                                "responses")
        return auc(values, self.predict(log))

    def to_dict(self) -> dict:
        """JSON-ready: options, log-likelihood, fit seconds, the order read and its check, the degenerate
        fits by flag, and every skill's parameters (its flags as a list)."""
        rows = self.params.reset_index().to_dict("records")
        for r in rows:
            r["flags"] = [f for f in r["flags"].split(",") if f]
        degenerate = {flag: {"skills": len(skills), "meaning": FLAGS[flag], "which": [json_ready(s) for s in skills]}
                      for flag, skills in self.degenerate.items()}
        return {"options": self.options, "train_log_likelihood": self.log_likelihood,
                "fit_seconds": self.fit_seconds, "n_skills": len(self.params), "order": json_ready(self.order_check),
                "degenerate": degenerate, "params": [{k: json_ready(v) for k, v in r.items()} for r in rows]}


def fit(responses: Log, *, skill: str = "skill", student: str = "student", correct: str = "correct",
        order: Optional[str] = None, forgets: bool = False, restarts: int = 5, seed: int = 0,
        tolerance: float = 1e-6, max_iterations: int = 200, threads: int = 0, name: Optional[str] = None) -> BKTFit:
    """Fits BKT to every skill of a response log (a DataFrame, or a file for read_responses) by EM:
    prior, learn, guess and slip (and forget with `forgets=True`), from `restarts` seeded starting
    points per skill, until an iteration gains less than `tolerance` log-likelihood per response or
    after `max_iterations`. Guess and slip stay below 0.5. Deterministic for a seed, on any `threads`.
    Each student's responses are read in the order of the column `order` (numbers or times; ties in
    the log's order), else in the log's row order; a ResponseOrderWarning says when they look shuffled,
    and `params["flags"]` marks degenerate fits (plsim.bkt_checks). `name` is what errors and warnings
    call the log (default: its file, or "responses")."""
    for argument, value, low in (("restarts", restarts, 1), ("max_iterations", max_iterations, 1),
                                 ("threads", threads, 0), ("seed", seed, 0)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
            raise ValueError(f"{argument}: expected an integer of at least {low} (got {value!r})")
    if not isinstance(forgets, bool):
        raise ValueError(f"forgets: expected True or False (got {forgets!r})")
    if not isinstance(tolerance, (int, float)) or not np.isfinite(tolerance) or tolerance < 0:
        raise ValueError(f"tolerance: expected a number of at least 0 (got {tolerance!r})")
    log = responses if isinstance(responses, pd.DataFrame) else read_responses(responses)
    where = name or ("responses" if isinstance(responses, pd.DataFrame) else str(responses))
    start = time.perf_counter()
    keys = order_keys(log, order, where, ResponseLogError) if order else None
    g = _group(log, skill, student, correct, where, keys=keys)
    if len(g.skills) == 0:
        raise ResponseLogError(f"{where}: no responses to fit")
    raw = _core.bkt_fit(g.correct, g.sequence_offsets, g.skill_offsets, forgets, int(restarts), int(seed),
                        float(tolerance), int(max_iterations), int(threads))
    seconds = time.perf_counter() - start
    responses_per_skill = np.diff(g.sequence_offsets.astype(np.int64)[g.skill_offsets.astype(np.int64)])
    params = pd.DataFrame({**{p: raw[p] for p in PARAMETERS}, "responses": responses_per_skill,
                           "students": g.students_per_skill, "log_likelihood": raw["log_likelihood"],
                           "iterations": raw["iterations"], "converged": raw["converged"]},
                          index=pd.Index(g.skills, name="skill"))
    params["flags"] = degenerate_flags(params)
    checked = check_order(log, skill=skill, student=student, correct=correct, order=order,
                          student_codes=g.student_codes, keys=keys,
                          trend=learning_trend(g.correct, g.sequence_offsets))
    for message in checked["warnings"]:
        warnings.warn(f"{where}: {message}", ResponseOrderWarning, stacklevel=2)
    options = {"forgets": forgets, "restarts": int(restarts), "seed": int(seed), "tolerance": float(tolerance),
               "max_iterations": int(max_iterations), "threads": int(threads)}
    return BKTFit(params, float(params["log_likelihood"].sum()), seconds, options,
                  {"skill": skill, "student": student, "correct": correct, "order": order}, checked)


def fit_report(train: Log, test: Optional[Log] = None, **options) -> dict:
    """What `plsim bkt fit` writes: the fit (BKTFit.to_dict), its train AUC and, with a test log, the
    test AUC and log-likelihood."""
    train_log = train if isinstance(train, pd.DataFrame) else read_responses(train)
    fitted = fit(train_log, name=None if isinstance(train, pd.DataFrame) else str(train), **options)
    out = fitted.to_dict()
    out["train_responses"] = int(len(train_log))
    out["train_auc"] = fitted.auc(train_log)
    if test is not None:
        test_log = test if isinstance(test, pd.DataFrame) else read_responses(test)
        predicted = fitted.predict(test_log)
        _, _, values = _columns(test_log, fitted.columns["skill"], fitted.columns["student"],
                                fitted.columns["correct"], str(test))
        out["test_responses"] = int(len(test_log))
        out["test_auc"] = auc(values, predicted)
        p = np.clip(predicted, 1e-12, 1 - 1e-12)
        out["test_log_likelihood"] = float(np.sum(np.where(values == 1, np.log(p), np.log(1 - p))))
        out["test_unseen_skills"] = int((~pd.Index(test_log[fitted.columns["skill"]]).isin(fitted.params.index)).sum())
    out["_fit"] = fitted
    return out


def write_json(report: dict, path: Union[str, os.PathLike]) -> None:
    Path(path).write_text(json.dumps({k: v for k, v in report.items() if not k.startswith("_")}, indent=2) + "\n")
