"""Joint fixed-point calibration of learning.grade_pace (5-year mean growth on the norms) and
learning.fragile_start (year-1 growth equal to the later years': the initial population at the steady
state of the forgetting dynamics), national_baseline, seeds 1-2."""
import copy, json, numpy as np, plsim
SUBJECTS = ("math", "reading")
def ratios(sc, seeds=(1, 2), years=5):
    out = {s: np.zeros((years, 13)) for s in SUBJECTS}
    for seed in seeds:
        sim = plsim.Sim(copy.deepcopy(sc), threads=2, seed=seed).run()
        for y in range(years):
            g = plsim.growth_by_grade(sim.assessments, year=y + 1)  # years count from 1
            for s in SUBJECTS:
                out[s][y] += g[g.subject == s].sort_values("grade").ratio.to_numpy() / len(seeds)
    return out
def joint(sc_base, over, iterations=10, damping=0.8, slope=0.4, verbose=True):
    over = copy.deepcopy(over); L = over.setdefault("learning", {})
    pace = {s: np.array(L["grade_pace"][s], float) for s in SUBJECTS} if "grade_pace" in L else \
        {s: np.array(plsim.parameters().set_index("path").loc[f"learning.grade_pace.{s}", "default"], float) for s in SUBJECTS}
    frag = {s: np.array(L["fragile_start"][s], float) if "fragile_start" in L else np.ones(13) for s in SUBJECTS}
    for it in range(iterations):
        L["grade_pace"] = {s: [float(v) for v in pace[s]] for s in SUBJECTS}
        L["fragile_start"] = {s: [float(v) for v in frag[s]] for s in SUBJECTS}
        sc = copy.deepcopy(sc_base); sc["parameters"] = over; sc["years"] = 5
        r = ratios(sc)
        worst_mean = max(float(np.max(np.abs(r[s].mean(0) - 1))) for s in SUBJECTS)
        worst_y1 = max(float(np.max(np.abs(r[s][0, 1:] - r[s][1:, 1:].mean(0)))) for s in SUBJECTS)
        if verbose: print(f"it {it}: |mean-1| {worst_mean:.3f} |y1-later| {worst_y1:.3f}", flush=True)
        for s in SUBJECTS:
            pace[s] = np.clip(pace[s] * np.power(1.0 / np.maximum(r[s].mean(0), 1e-3), damping), 0.01, 100.0)
            d = r[s][0] - r[s][1:].mean(0); d[0] = 0.0
            frag[s] = np.clip(frag[s] + damping * d / slope, 0.0, 5.0)
    L["grade_pace"] = {s: [round(float(v), 4) for v in pace[s]] for s in SUBJECTS}
    L["fragile_start"] = {s: [round(float(v), 3) for v in frag[s]] for s in SUBJECTS}
    return over
