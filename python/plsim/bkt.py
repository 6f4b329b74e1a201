"""Bayesian Knowledge Tracing fitted to response logs (the engine's EM, plsim/bkt.hpp).

>>> log = plsim.bkt.read_responses("builder_train.csv")      # tidy CSV, or the three-line format
>>> fitted = plsim.bkt.fit(log, forgets=False, restarts=5, seed=0)
>>> fitted.params                                            # one row per skill
>>> fitted.auc(plsim.bkt.read_responses("builder_test.csv"))

A log has one row per response, in time order within each student: a skill, a student and whether
the response was correct (0/1 or False/True). Each (skill, student) pair is one sequence of
opportunities. Skills a prediction meets that the fit never saw are predicted with the median of the
fitted skills' parameters (`BKTFit.fallback`).
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Union

import numpy as np
import pandas as pd

from . import _core

PARAMETERS = ["prior", "learn", "forget", "guess", "slip"]
Log = Union[pd.DataFrame, str, os.PathLike]


class ResponseLogError(ValueError):
    """A response log plsim cannot fit: the message names the file or column and what is wrong."""


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
           skills_order: Optional[list] = None) -> _Grouped:
    """Skill codes in `skills_order` (by default every skill of the log, sorted); with a given order, the
    responses of skills not in it form one more group at the end."""
    skills, students, values = _columns(log, skill, student, correct, where)
    if skills_order is None:
        codes, uniques = pd.factorize(skills, sort=True)
        skills_order = list(uniques)
    else:
        codes = pd.Index(skills_order).get_indexer(skills)
        codes = np.where(codes < 0, len(skills_order), codes)
    student_codes, _ = pd.factorize(students)
    # Stable: responses of one student in one skill keep their order in the log.
    order = np.lexsort((student_codes, codes))
    c, s = codes[order], student_codes[order]
    new_sequence = np.ones(len(order), dtype=bool)
    new_sequence[1:] = (c[1:] != c[:-1]) | (s[1:] != s[:-1])
    starts = np.flatnonzero(new_sequence)
    groups = len(skills_order) + int(len(c) > 0 and c.max() == len(skills_order))
    counts = np.bincount(c[starts], minlength=groups) if len(starts) else np.zeros(groups, dtype=np.int64)
    return _Grouped(values[order], np.append(starts, len(order)).astype(np.uint64),
                    np.concatenate([[0], np.cumsum(counts)]).astype(np.uint64), skills_order, order, counts)


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
    log_likelihood, iterations, converged), the total `log_likelihood` of the training log, the
    `fit_seconds` it took (grouping the log and EM), the options and the column names it was fitted on."""

    params: pd.DataFrame
    log_likelihood: float
    fit_seconds: float
    options: dict
    columns: dict = field(default_factory=lambda: {"skill": "skill", "student": "student", "correct": "correct"})

    @property
    def fallback(self) -> pd.Series:
        """The parameters used for skills the fit never saw: the median over the fitted skills."""
        return self.params[PARAMETERS].median()

    def predict(self, responses: Log) -> np.ndarray:
        """One-step-ahead P(correct) of each response of a log (in its row order), given the student's
        earlier responses in that skill."""
        log = responses if isinstance(responses, pd.DataFrame) else read_responses(responses)
        where = "responses" if isinstance(responses, pd.DataFrame) else str(responses)
        g = _group(log, self.columns["skill"], self.columns["student"], self.columns["correct"], where,
                   list(self.params.index))
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
        """JSON-ready: options, log-likelihood, fit seconds and every skill's parameters."""
        rows = self.params.reset_index().to_dict("records")
        return {"options": self.options, "train_log_likelihood": self.log_likelihood,
                "fit_seconds": self.fit_seconds, "n_skills": len(self.params),
                "params": [{k: (v.item() if isinstance(v, np.generic) else v) for k, v in r.items()} for r in rows]}


def fit(responses: Log, *, skill: str = "skill", student: str = "student", correct: str = "correct",
        forgets: bool = False, restarts: int = 5, seed: int = 0, tolerance: float = 1e-6,
        max_iterations: int = 200, threads: int = 0) -> BKTFit:
    """Fits BKT to every skill of a response log (a DataFrame, or a file for read_responses) by EM:
    prior, learn, guess and slip (and forget with `forgets=True`), from `restarts` seeded starting
    points per skill, until an iteration gains less than `tolerance` log-likelihood per response or
    after `max_iterations`. Guess and slip stay below 0.5. Deterministic for a seed, on any `threads`."""
    for name, value, low in (("restarts", restarts, 1), ("max_iterations", max_iterations, 1), ("threads", threads, 0),
                             ("seed", seed, 0)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
            raise ValueError(f"{name}: expected an integer of at least {low} (got {value!r})")
    if not isinstance(forgets, bool):
        raise ValueError(f"forgets: expected True or False (got {forgets!r})")
    if not isinstance(tolerance, (int, float)) or not np.isfinite(tolerance) or tolerance < 0:
        raise ValueError(f"tolerance: expected a number of at least 0 (got {tolerance!r})")
    log = responses if isinstance(responses, pd.DataFrame) else read_responses(responses)
    where = "responses" if isinstance(responses, pd.DataFrame) else str(responses)
    start = time.perf_counter()
    g = _group(log, skill, student, correct, where)
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
    options = {"forgets": forgets, "restarts": int(restarts), "seed": int(seed), "tolerance": float(tolerance),
               "max_iterations": int(max_iterations), "threads": int(threads)}
    return BKTFit(params, float(params["log_likelihood"].sum()), seconds, options,
                  {"skill": skill, "student": student, "correct": correct})


def fit_report(train: Log, test: Optional[Log] = None, **options) -> dict:
    """What `plsim bkt fit` writes: the fit (BKTFit.to_dict), its train AUC and, with a test log, the
    test AUC and log-likelihood."""
    train_log = train if isinstance(train, pd.DataFrame) else read_responses(train)
    fitted = fit(train_log, **options)
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
