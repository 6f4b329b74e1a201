"""Study emulation: what an evaluator would report, from measured scores only, next to the truth.

As RAND did for NGLC schools (Pane et al. 2017), each personalized school's students are compared
with a virtual comparison group matched on grade, FRL status and prior score (their first measured fall
score in the run, in 0.5 SD bands: coarsened exact matching). The comparison pool is configurable:
``"twin"`` (every student of the counterfactual twin, on traditional instruction with its own test
errors) or ``"traditional"`` (the students of the run's own schools at no PL stage, which is where
selection shows: PL schools may differ from the others in ways the matching does not see).

A school's estimate is the mean, over its matched students, of their spring score minus the mean of
their cell in the pool, in national SD units; its standard error combines both sides' within-cell
variances; p-values are two-sided normal. The true effect is the school's own against the twin.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .results import SUBJECTS, years_from_1

POOLS = ("twin", "traditional")
STUDY_COLUMNS = ["school_id", "subject", "year", "n", "n_unmatched", "estimate_sd", "se", "p_value",
                 "true_effect_sd", "school_type", "model", "implementation_year"]


def _cells(core) -> pd.DataFrame:
    df = pd.DataFrame(years_from_1(core.table("study")))
    # The comparison pool's rows carry the engine's study_pool (the largest uint32): -1 here.
    df["school_id"] = np.where(df["school_id"] == np.iinfo(np.uint32).max, -1, df["school_id"].astype(np.int64))
    if len(df):
        df["subject"] = pd.Categorical.from_codes(df["subject"], SUBJECTS)
    return df


def _cell_stats(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out["mean"] = out["sum"] / out["n"]
    out["var"] = np.where(out["n"] > 1, (out["sum_squares"] - out["n"] * out["mean"] ** 2) / (out["n"] - 1).clip(lower=1), 0.0)
    out["var"] = out["var"].clip(lower=0)
    return out


def _matched_cells(policy_core, twin_core, pool: str):
    """The treated cells (PL schools) and those of them the pool matches, each with the difference of
    the two means (`diff`) and its sampling variance (`v`); None when the run recorded no cells."""
    if pool not in POOLS:
        raise ValueError(f"pool: expected one of {', '.join(POOLS)} (got {pool!r})")
    if pool == "twin" and twin_core is None:
        raise RuntimeError("study: the twin pool needs the counterfactual twin; create the Sim with "
                           "counterfactual=True or use pool='traditional'")
    cells = _cells(policy_core)
    if cells.empty:
        return None
    pool_cells = _cells(twin_core) if pool == "twin" else cells
    keys = ["year", "subject", "grade", "frl", "prior_band"]
    treated = _cell_stats(cells[cells["school_id"] >= 0])
    comparison = _cell_stats(pool_cells[pool_cells["school_id"] < 0])[keys + ["n", "mean", "var"]]
    matched = treated.merge(comparison, on=keys, how="inner", suffixes=("", "_pool"))
    matched["diff"] = matched["mean"] - matched["mean_pool"]
    matched["v"] = matched["var"] / matched["n"] + matched["var_pool"] / matched["n_pool"]
    return treated, matched


def emulate(policy_core, twin_core, schools: pd.DataFrame, effects: pd.DataFrame | None, pool: str = "twin") -> pd.DataFrame:
    """One row per PL school, subject and year: n (matched students), n_unmatched, estimate_sd, se,
    p_value, true_effect_sd (NaN without a twin), school_type, model, implementation_year."""
    cells = _matched_cells(policy_core, twin_core, pool)
    if cells is None:
        return pd.DataFrame(columns=STUDY_COLUMNS)
    treated, matched = cells
    group = ["school_id", "subject", "year"]
    rows = []
    for (school, subject, year), g in matched.groupby(group, observed=True):
        n = g["n"].sum()
        w = g["n"] / n
        estimate = float((w * g["diff"]).sum())
        se = float(np.sqrt((w ** 2 * g["v"]).sum()))
        rows.append({"school_id": int(school), "subject": str(subject), "year": int(year), "n": int(n),
                     "estimate_sd": estimate, "se": se,
                     "p_value": float(2 * stats.norm.sf(abs(estimate) / se)) if se > 0 else np.nan})
    out = pd.DataFrame(rows, columns=["school_id", "subject", "year", "n", "estimate_sd", "se", "p_value"])
    total = treated.groupby(group, observed=True)["n"].sum().rename("n_all").reset_index()
    total["subject"] = total["subject"].astype(str)
    out = out.merge(total, on=group, how="left")
    out["n_unmatched"] = out.pop("n_all") - out["n"]
    if effects is not None and len(effects):
        e = effects.copy()
        e["subject"] = e["subject"].astype(str)
        e["weighted"] = e["effect_sd"] * e["n"]
        sums = e.groupby(["school_id", "subject", "year"])[["weighted", "n"]].sum()
        true = (sums["weighted"] / sums["n"]).rename("true_effect_sd").reset_index()
        out = out.merge(true, on=group, how="left")
    else:
        out["true_effect_sd"] = np.nan
    out["school_type"] = schools["type"].astype(str).to_numpy()[out["school_id"]] if len(out) else []
    out["model"] = schools["model"].astype(str).to_numpy()[out["school_id"]] if len(out) else []
    out["implementation_year"] = schools["implementation_year"].to_numpy()[out["school_id"]] if len(out) else []
    return out[STUDY_COLUMNS].sort_values(["year", "subject", "school_id"]).reset_index(drop=True)


def by_prior_quintile(policy_core, twin_core, pool: str = "twin") -> pd.DataFrame:
    """The matched estimate by prior-achievement quintile, pooled over the PL schools: the prior bands
    of the treated students are grouped into five groups of about equal size, per subject and year."""
    cells = _matched_cells(policy_core, twin_core, pool)
    if cells is None:
        return pd.DataFrame(columns=["subject", "year", "quintile", "n", "estimate_sd", "se"])
    _, m = cells
    rows = []
    for (subject, year), g in m.groupby(["subject", "year"], observed=True):
        share = g.groupby("prior_band")["n"].sum().sort_index().cumsum() / g["n"].sum()
        quintile = np.minimum(5, 1 + np.floor((share - share.diff().fillna(share) / 2) * 5)).astype(int)
        g = g.assign(quintile=g["prior_band"].map(quintile))
        for q, x in g.groupby("quintile"):
            w = x["n"] / x["n"].sum()
            rows.append({"subject": str(subject), "year": int(year), "quintile": int(q), "n": int(x["n"].sum()),
                         "estimate_sd": float((w * x["diff"]).sum()), "se": float(np.sqrt((w ** 2 * x["v"]).sum()))})
    return pd.DataFrame(rows)


def summarize(study: pd.DataFrame, alpha: float = 0.05) -> dict:
    """Per subject, the last year's pooled estimate (students' mean over schools) with its SE, the mean
    true effect, the SD of the school estimates, and the shares of schools significantly positive and
    negative at `alpha`; also by school type and implementation year."""
    out = {}
    if study.empty:
        return out
    last = study[study["year"] == study["year"].max()]
    for subject, g in last.groupby("subject"):
        w = g["n"] / g["n"].sum()
        pooled = float((w * g["estimate_sd"]).sum())
        k = len(g)
        # Schools as clusters: the pooled estimate's SE from the spread of the school estimates
        # (school effects the matching does not see count as noise), not only from sampling.
        cluster_se = float(np.sqrt((w ** 2 * (g["estimate_sd"] - pooled) ** 2).sum() * k / (k - 1))) if k > 1 else float(g["se"].iloc[0])
        entry = {"year": int(g["year"].iloc[0]), "schools": int(len(g)),
                 "pooled_estimate_sd": pooled, "pooled_se": cluster_se,
                 "pooled_se_sampling": float(np.sqrt((w ** 2 * g["se"] ** 2).sum())),
                 "true_effect_sd": float((w * g["true_effect_sd"]).sum()) if g["true_effect_sd"].notna().all() else None,
                 "sd_of_school_estimates": float(g["estimate_sd"].std(ddof=1)) if len(g) > 1 else None,
                 "share_significant_positive": float(((g["p_value"] < alpha) & (g["estimate_sd"] > 0)).mean()),
                 "share_significant_negative": float(((g["p_value"] < alpha) & (g["estimate_sd"] < 0)).mean())}
        for key in ("school_type", "implementation_year"):
            entry[f"by_{key}"] = {str(k): float(np.average(x["estimate_sd"], weights=x["n"])) for k, x in g.groupby(key)}
        out[str(subject)] = entry
    return out


def plot(study: pd.DataFrame, path=None, ax=None):
    """Estimated against true school effects (the last year), with the 45-degree line and 95% bars."""
    import matplotlib
    if path is not None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    last = study[study["year"] == study["year"].max()]
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(6, 5))
    for subject, g in last.groupby("subject"):
        ax.errorbar(g["true_effect_sd"], g["estimate_sd"], yerr=1.96 * g["se"], fmt="o", ms=4, alpha=0.7,
                    capsize=2, label=str(subject))
    lims = [min(last["true_effect_sd"].min(), last["estimate_sd"].min()) - 0.05,
            max(last["true_effect_sd"].max(), last["estimate_sd"].max()) + 0.05]
    ax.plot(lims, lims, "k--", lw=0.8)
    ax.axhline(0, color="gray", lw=0.5)
    ax.set(xlabel="true school effect (SD, against the twin)", ylabel="estimated school effect (SD, matched comparison)",
           title="What an evaluator reports against the truth")
    ax.legend()
    if path is not None:
        ax.figure.tight_layout()
        ax.figure.savefig(path, dpi=110)
    return ax
