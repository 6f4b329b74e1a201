"""A posterior: weighted draws of parameters consistent with targets (plsim.calibrate(...,
method="abc-smc")), with what it took to get them and how well they reproduce the targets.

    post.draws          # one row per particle: a column per parameter path, weight, distance, output_*
    post.summary()      # per parameter: mean, sd, 5%, 50%, 95% (weighted), and the prior's 5% and 95%
    post.predictive()   # per target: its value and tolerance beside the outputs' posterior interval
    post.rounds         # per round: tolerance, simulations, accepted, acceptance, ESS
    post.ess            # effective sample size of the final weights
    post.sample(n, seed)  # n parameter vectors resampled by weight (for plsim compare --uncertainty)
    post.save(DIR); plsim.posterior.Posterior.load(DIR)   # posterior.csv + posterior.json, no pickle
    post.plot()         # marginals (weighted histograms, the prior's density) and pairs
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from .safe_io import SCENARIO_MAX_BYTES, json_ready, parse_json, read_bounded

#: The files of a saved posterior.
DRAWS_FILE, META_FILE = "posterior.csv", "posterior.json"


def weighted_quantile(values, weights, q) -> np.ndarray:
    """Quantiles `q` of `values` under `weights` (the inverse of the weighted empirical CDF,
    interpolated between the mid-points of each value's weight)."""
    order = np.argsort(values, kind="stable")
    v, w = np.asarray(values, dtype=float)[order], np.asarray(weights, dtype=float)[order]
    cum = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(q, cum, v)


class Posterior:
    """Weighted draws (`draws`, with a `weight` column summing to 1), the targets they were fitted to
    ({name: (value, tolerance)}), the rounds of the fit, and `meta` (method, scenario, seeds, priors)."""

    def __init__(self, draws: pd.DataFrame, parameters: list, targets: dict, rounds: pd.DataFrame,
                 meta: Optional[dict] = None):
        self.draws = draws.reset_index(drop=True)
        self.parameters = list(parameters)
        self.targets = {k: (float(v[0]), float(v[1])) for k, v in targets.items()}
        self.rounds = rounds.reset_index(drop=True)
        self.meta = dict(meta or {})
        w = self.draws["weight"].to_numpy(dtype=float)
        if not (np.all(w >= 0) and abs(w.sum() - 1) < 1e-6):
            raise ValueError("posterior: weights must be non-negative and sum to 1")

    @property
    def weights(self) -> np.ndarray:
        return self.draws["weight"].to_numpy(dtype=float)

    @property
    def ess(self) -> float:
        """Effective sample size, 1 / sum(w^2): how many equally weighted draws the weights are worth."""
        return float(1.0 / np.sum(self.weights ** 2))

    def interval(self, path: str, level: float = 0.9) -> tuple:
        """The central `level` interval of a parameter (weighted quantiles)."""
        lo, hi = weighted_quantile(self.draws[path].to_numpy(), self.weights, [(1 - level) / 2, (1 + level) / 2])
        return float(lo), float(hi)

    def summary(self) -> pd.DataFrame:
        """Per parameter: weighted mean, sd, 5%, 50% and 95%, and the prior's 5% and 95% (meta)."""
        rows = []
        w = self.weights
        for p in self.parameters:
            x = self.draws[p].to_numpy(dtype=float)
            mean = float(np.sum(w * x))
            q = weighted_quantile(x, w, [0.05, 0.5, 0.95])
            prior = self.meta.get("priors", {}).get(p, {})
            rows.append({"parameter": p, "mean": mean, "sd": float(np.sqrt(np.sum(w * (x - mean) ** 2))),
                         "q05": q[0], "q50": q[1], "q95": q[2], "prior": prior.get("distribution", ""),
                         "prior_q05": prior.get("q05", np.nan), "prior_q95": prior.get("q95", np.nan)})
        return pd.DataFrame(rows)

    def predictive(self) -> pd.DataFrame:
        """Per target: its value and tolerance beside the weighted mean and 5-95% interval of the output
        over the final population's simulations (each simulated at its particle's values, with the
        fit's seeds), and whether the value lies inside."""
        rows = []
        for name, (value, tol) in self.targets.items():
            x = self.draws[f"output_{name}"].to_numpy(dtype=float)
            q = weighted_quantile(x, self.weights, [0.05, 0.5, 0.95])
            rows.append({"target": name, "value": value, "tolerance": tol, "mean": float(np.sum(self.weights * x)),
                         "q05": q[0], "q50": q[1], "q95": q[2], "inside": bool(q[0] <= value <= q[2])})
        return pd.DataFrame(rows)

    def sample(self, n: int, seed: int = 0) -> pd.DataFrame:
        """`n` parameter vectors resampled by weight (systematic resampling from a seeded generator: the
        same seed gives the same vectors); index: draw, from 1."""
        rng = np.random.default_rng([int(seed), 0x9057])
        positions = (rng.random() + np.arange(n)) / n
        idx = np.minimum(np.searchsorted(np.cumsum(self.weights), positions), len(self.draws) - 1)
        out = self.draws.loc[idx, self.parameters].reset_index(drop=True)
        out.index = pd.RangeIndex(1, n + 1, name="draw")
        return out

    # --- files ---------------------------------------------------------------------------------------

    def save(self, directory) -> Path:
        """Writes DIR/posterior.csv (the draws) and DIR/posterior.json (parameters, targets, rounds, ESS,
        meta): plain text, read back by `Posterior.load`."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        self.draws.to_csv(out / DRAWS_FILE, index=False, float_format="%.17g")  # exact round trip
        meta = {"format": "plsim posterior 1", "parameters": self.parameters,
                "targets": {k: list(v) for k, v in self.targets.items()}, "ess": self.ess,
                "rounds": self.rounds.to_dict("records"), "meta": self.meta}
        (out / META_FILE).write_text(json.dumps(json_ready(meta), indent=2) + "\n")
        return out

    @classmethod
    def load(cls, path) -> "Posterior":
        """A posterior saved by `save`: its directory, or its posterior.csv (posterior.json beside it)."""
        p = Path(path)
        directory = p if p.is_dir() else p.parent
        meta_path = directory / META_FILE
        meta = parse_json(read_bounded(meta_path, limit=SCENARIO_MAX_BYTES, what="posterior.json"), str(meta_path),
                          what="posterior.json")
        if not isinstance(meta, dict) or meta.get("format") != "plsim posterior 1":
            raise ValueError(f"{meta_path}: not a plsim posterior (no \"format\": \"plsim posterior 1\")")
        draws = pd.read_csv(directory / DRAWS_FILE, float_precision="round_trip")
        missing = [c for c in meta["parameters"] + ["weight"] if c not in draws.columns]
        if missing:
            raise ValueError(f"{directory / DRAWS_FILE}: column(s) {', '.join(missing)} missing (posterior.json names "
                             f"them)")
        if abs(draws["weight"].sum() - 1) > 1e-9:  # edited by hand: the weights are relative
            draws["weight"] = draws["weight"] / draws["weight"].sum()
        return cls(draws, meta["parameters"], {k: tuple(v) for k, v in meta["targets"].items()},
                   pd.DataFrame(meta["rounds"]), meta.get("meta", {}))

    # --- pictures ------------------------------------------------------------------------------------

    def plot(self, bins: int = 20):
        """A grid: on the diagonal each parameter's weighted histogram with its prior's density (when
        known) and 90% interval; below it every pair of parameters, each draw a dot sized by weight."""
        import matplotlib.pyplot as plt

        k = len(self.parameters)
        fig, axes = plt.subplots(k, k, figsize=(3.2 * k + 0.5, 2.8 * k + 0.3), squeeze=False)
        w = self.weights
        for i, p in enumerate(self.parameters):
            for j, q in enumerate(self.parameters):
                ax = axes[i][j]
                if j > i:
                    ax.axis("off")
                    continue
                if i == j:
                    x = self.draws[p].to_numpy(dtype=float)
                    ax.hist(x, bins=bins, weights=w, density=True, color="tab:blue", alpha=0.6, label="posterior")
                    self._prior_line(ax, p, x)
                    for v in self.interval(p):
                        ax.axvline(v, color="k", ls=":", lw=0.8)
                    ax.set(title=p, yticks=[])
                else:
                    ax.scatter(self.draws[q], self.draws[p], s=6 + 400 * w, alpha=0.5)
                    ax.set(xlabel=q, ylabel=p)
        fig.suptitle(f"posterior ({len(self.draws)} weighted draws, ESS {self.ess:.0f}; dotted: 90% interval)")
        fig.tight_layout()
        return fig

    def _prior_line(self, ax, path: str, x: np.ndarray) -> None:
        """The prior's density over the panel, when the prior is one plsim can rebuild."""
        spec = self.meta.get("priors", {}).get(path, {}).get("spec")
        if not spec:
            return
        from .priors import make_prior

        prior = make_prior(path, spec, {})  # saved with its centre written out
        lo, hi = prior.ppf([0.001, 0.999])
        grid = np.linspace(min(lo, x.min()), max(hi, x.max()), 200)
        ax.plot(grid, prior.pdf(grid), color="gray", lw=1, label="prior")
        ax.legend(fontsize=7)

    def report(self) -> str:
        """A Markdown report: how the fit went, the parameters, the targets against their predictive
        intervals."""
        seeds = self.meta.get("seeds")
        lines = [f"# Posterior of {self.meta.get('scenario', 'a simulator')}", "",
                 f"{self.meta.get('method', 'ABC-SMC')}: {len(self.draws)} weighted draws, effective sample size "
                 f"{self.ess:.1f}; each simulation ran seed(s) {seeds}." if seeds is not None else
                 f"{self.meta.get('method', 'ABC-SMC')}: {len(self.draws)} weighted draws, ESS {self.ess:.1f}.", "",
                 "## Parameters (weighted quantiles of the draws; the prior's for comparison)", "",
                 "| parameter | mean | sd | 5% | 50% | 95% | prior | prior 5% | prior 95% |",
                 "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |"]
        for r in self.summary().itertuples():
            lines.append(f"| {r.parameter} | {r.mean:.4g} | {r.sd:.3g} | {r.q05:.4g} | {r.q50:.4g} | {r.q95:.4g} | "
                         f"{r.prior} | {r.prior_q05:.4g} | {r.prior_q95:.4g} |")
        lines += ["", "## Targets against the posterior predictive interval (5-95% of the final population's "
                      "outputs)", "", "| target | value | tolerance | mean | 5% | 95% | inside |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
        for r in self.predictive().itertuples():
            lines.append(f"| {r.target} | {r.value:.4g} | {r.tolerance:.3g} | {r.mean:.4g} | {r.q05:.4g} | "
                         f"{r.q95:.4g} | {'yes' if r.inside else 'NO'} |")
        lines += ["", "## Rounds", "", "| round | tolerance (distance) | simulations | accepted | acceptance | ESS |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: |"]
        for r in self.rounds.itertuples():
            lines.append(f"| {r.round} | {r.epsilon:.4g} | {r.simulations} | {r.accepted} | {r.acceptance:.3f} | "
                         f"{r.ess:.1f} |")
        return "\n".join(lines) + "\n"

    def _repr_html_(self) -> str:
        return (f"<b>plsim Posterior</b>: {len(self.draws)} draws, ESS {self.ess:.1f}<br>"
                + self.summary().round(4).to_html(index=False, escape=True)
                + self.predictive().round(4).to_html(index=False, escape=True))

    def __repr__(self) -> str:
        return f"Posterior(parameters={self.parameters!r}, draws={len(self.draws)}, ess={self.ess:.1f})"
