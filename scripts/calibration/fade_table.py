"""The one-year tutoring programme of docs/model.md, "Effects over years": the share of its effect kept
1-3 years after it ends, with each mechanism switched off in turn, and three years of tutoring.

    .venv/bin/python scripts/calibration/fade_table.py
"""
import copy, json, pathlib, numpy as np, plsim
base = json.load(open(pathlib.Path(__file__).resolve().parents[2] / "scenarios" / "tutoring.json"))
def cohort(sim, years, subject):
    sg = sim.subgroups; ys = sorted(sg.year.unique())[:years]; out = []
    for k, y in enumerate(ys):
        d = sg[(sg.year == y) & (sg.subject == subject) & (sg.subgroup == "pl_cohort") & (sg.grade.isin([g + k for g in (1, 2, 3, 4)]))]
        d = d[d.n > 0]; out.append(float(np.average(d.effect_true_sd, weights=d.n)))
    return np.array(out)
def doc(first, last, years, seed, learning):
    d = copy.deepcopy(base); d["years"] = years; d["seed"] = seed; d["parameters"] = {"learning": learning}
    for dd in d["districts"]:
        for g in dd["schools"]: g["model_years"] = [first, last]
    return d
def row(label, learning, subject="math"):
    e = np.mean([cohort(plsim.Sim(doc(1, 1, 4, s, learning), threads=2).run(), 4, subject) for s in (1, 2)], axis=0)
    print(f"| {label} | {e[0]:+.3f} SD | {e[1]/e[0]:.2f} | {e[2]/e[0]:.2f} | {e[3]/e[0]:.2f} |")
row("one year of tutoring, math: share of the effect kept", {})
row("the same, reading", {}, "reading")
row("math without forgetting (`forgetting_rate` 0)", {"forgetting_rate": 0.0})
row("math without review (`review_share` 0)", {"review_share": 0.0})
row("math without review of gaps older than the window (`review_old_gaps` 0)", {"review_old_gaps": 0.0})
k = np.mean([cohort(plsim.Sim(doc(1, 3, 3, s, {}), threads=2).run(), 3, "math") for s in (1, 2)], axis=0)
print("three years:", " ".join(f"{v:+.3f}" for v in k))
