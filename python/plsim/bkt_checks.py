"""Checks of a BKT fit's input and output (plsim.bkt): whether the responses are in time order, and
which skills' fits are degenerate.

BKT reads each student's responses in a skill as a sequence in time; EM cannot tell rows out of
order, it only finds no learning in them (shuffling the ASSISTments skill-builder log moved the
median learn rate from 0.09 to 0.001). Two signs of a shuffled log are checked: a column that looks
like a time or an order id decreasing within a student, and, in any log, responses late in students'
sequences being hardly more often correct than early ones (in the real log they are 0.15 more often
correct, over 21,851 sequences of 4 or more responses; in the shuffled log 0.001).
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd

#: Column names that usually hold a response's time or order id (case-insensitive): checked for order
#: within students when no order column is given.
ORDER_NAMES = ("order_id", "order", "timestamp", "time", "datetime", "date", "start_time", "end_time", "created_at",
               "ms_first_response", "attempt_id", "opportunity")
#: Sequences of at least this many responses enter the learning-trend check, and at least
#: MIN_SEQUENCES of them are needed to judge; a log whose late responses are correct less than
#: MIN_TREND more often than its early ones (or not 2 standard errors more) is warned about. Logs in
#: time order: ASSISTments +0.15, plsim's simulated practice (tests/python/data/tiny.json) +0.07.
MIN_LENGTH, MIN_SEQUENCES, MIN_TREND = 4, 100, 0.03
#: A parameter within this distance of its bound counts as at the bound (EM keeps every probability
#: in [1e-6, 1 - 1e-6], guess and slip below 0.5, and approaches a bound slowly).
AT_BOUND = 1e-4
#: Known and unknown students whose chances of a correct answer differ by less than this
#: (1 - guess - slip) are barely told apart.
MIN_SEPARATION = 0.1
#: Each flag of a degenerate fit and what it means.
FLAGS = {
    "learn_at_bound": "learn at its bound (0 or 1): no learning identified, or all of it at once",
    "guess_slip_at_cap": "guess or slip at the 0.5 cap, beyond which the two states would swap",
    "indistinct_states": f"1 - guess - slip below {MIN_SEPARATION:g}: known and unknown students answer alike",
    "not_converged": "EM stopped at max_iterations before converging",
}


def order_keys(log: pd.DataFrame, column: str, where: str, error) -> np.ndarray:
    """The values of an order column as sortable numbers (numbers, or times as nanoseconds); raises
    `error` naming the column, the first bad row and its value."""
    if column not in log.columns:
        raise error(f"{where}: no column {column!r} for the order (argument order=); the log has "
                    f"{', '.join(map(str, log.columns))}")
    values = log[column]
    missing = values.isna().to_numpy()
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise error(f"{where}: column {column!r}, row {row}: empty value ({int(missing.sum())} rows); every response "
                    f"needs its place in time")
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().all():
        return numbers.to_numpy(dtype=float)
    times = pd.to_datetime(values, errors="coerce")
    if times.notna().all():
        return times.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(float)
    row = int(np.flatnonzero(numbers.isna().to_numpy() & times.isna().to_numpy())[0])
    raise error(f"{where}: column {column!r}, row {row}: expected a number or a time for the order (got "
                f"{values.iloc[row]!r})")


def decreases_within_students(keys: np.ndarray, student_codes: np.ndarray) -> tuple:
    """(decreases, pairs): consecutive responses of the same student, in the file's order, whose order
    key goes down, and all such consecutive pairs."""
    rows = np.argsort(student_codes, kind="stable")  # each student's rows, in the file's order
    same = student_codes[rows][1:] == student_codes[rows][:-1]
    down = keys[rows][1:] < keys[rows][:-1]
    return int((same & down).sum()), int(same.sum())


def learning_trend(correct: np.ndarray, sequence_offsets: np.ndarray) -> dict:
    """Late minus early share correct of each (skill, student) sequence of MIN_LENGTH+ responses (halves;
    an odd length's middle response left out), as read by the fit: mean, standard error, sequences."""
    offsets = sequence_offsets.astype(np.int64)
    lengths = np.diff(offsets)
    n = np.repeat(lengths, lengths)
    position = np.arange(len(correct)) - np.repeat(offsets[:-1], lengths)
    sequence = np.repeat(np.arange(len(lengths)), lengths)
    long = n >= MIN_LENGTH
    early, late = long & (2 * position + 1 < n), long & (2 * position > n - 1)
    values = correct.astype(float)

    def share(mask):
        hits = np.bincount(sequence[mask], weights=values[mask], minlength=len(lengths))
        return hits / np.maximum(np.bincount(sequence[mask], minlength=len(lengths)), 1)

    difference = (share(late) - share(early))[lengths >= MIN_LENGTH]
    m = len(difference)
    se = float(difference.std(ddof=1) / np.sqrt(m)) if m > 1 else float("nan")
    return {"late_minus_early": float(difference.mean()) if m else float("nan"), "se": se, "sequences": m}


def check_order(log: pd.DataFrame, *, skill: str, student: str, correct: str, order: Optional[str],
                student_codes: np.ndarray, keys: Optional[np.ndarray], trend: dict) -> dict:
    """What the fit reports of the order it read the responses in, with warnings (list of sentences)
    when they look shuffled."""
    report = {"by": f"column {order!r} (ascending; ties in the file's order)" if order else
              "the file's row order within each student",
              "column": order, "learning_trend": trend, "warnings": []}
    if order:
        down, pairs = decreases_within_students(keys, student_codes)
        report["file_rows_out_of_order"] = down
        if down:
            report["note"] = (f"the file's rows were out of order at {down:,} of {pairs:,} consecutive responses of a "
                              f"student; the fit sorted them by {order!r} (ties kept in the file's order)")
    else:
        taken = {skill, student, correct}
        for column in log.columns:
            if str(column).lower() not in ORDER_NAMES or column in taken:
                continue
            try:
                candidate = order_keys(log, column, "", ValueError)
            except ValueError:
                continue
            down, pairs = decreases_within_students(candidate, student_codes)
            if down:
                report["warnings"].append(
                    f"column {column!r} decreases within students at {down:,} of {pairs:,} consecutive responses: the "
                    f"rows are not in time order, and BKT read them in the file's order; pass --order {column} "
                    f"(order={column!r})")
    m, mean, se = trend["sequences"], trend["late_minus_early"], trend["se"]
    if m >= MIN_SEQUENCES and not (mean >= MIN_TREND and mean > 2 * se):
        read = f"in the order of {order!r}" if order else "in the file's order"
        hint = "check that the column is the responses' time or order id" if order else \
            "pass --order COLUMN (order=) if the log has a timestamp or an order id"
        report["warnings"].append(
            f"read {read}, responses late in students' sequences are hardly more often correct than early ones "
            f"(late - early {mean:+.3f}, SE {se:.3f}, over {m:,} sequences of {MIN_LENGTH}+ responses; ASSISTments in "
            f"time order: +0.15): the rows may not be in time order; {hint}")
    return report


def degenerate_flags(params: pd.DataFrame) -> pd.Series:
    """Per skill, the FLAGS its fit raises, comma-separated ("" for a sound fit)."""
    checks = {
        "learn_at_bound": (params["learn"] < AT_BOUND) | (params["learn"] > 1 - AT_BOUND),
        "guess_slip_at_cap": (params["guess"] > 0.5 - 1e-3) | (params["slip"] > 0.5 - 1e-3),
        "indistinct_states": 1 - params["guess"] - params["slip"] < MIN_SEPARATION,
        "not_converged": ~params["converged"].astype(bool),
    }
    flags = pd.Series("", index=params.index, dtype=object)
    for name, hit in checks.items():
        flags[hit] = flags[hit].map(lambda f, n=name: f"{f},{n}" if f else n)
    return flags
