"""The issue-19 figures for a parameter set, without changing the engine's defaults.

    .venv/bin/python scripts/calibration/evaluate.py SET.json [--set path=value ...] [--calibrate OUT.json]
        [--models m1,m2] [--quintiles]

SET.json is a scenario "parameters" section (best_q5.json, say). --set overrides one parameter (dotted
path, JSON value). --calibrate first refits learning.grade_pace and learning.fragile_start (jointcal.py)
and writes the refitted set. Prints: the worst five-year fall level (validity-stability), the bottom and
top starting quintiles' year-1 growth over the norm (validity-conditional-growth; --quintiles prints
every grade), the NGLC one-year effects (3 seeds), trial-sized tutoring, and each model's math effect in
years 1-5 on the validity-dynamics check's districts (fidelity 0.8, implementation year 3)."""
import argparse, copy, json, pathlib, sys
import numpy as np, plsim
sys.path.insert(0, str(pathlib.Path(__file__).parent)); import jointcal

SCENARIOS = pathlib.Path(__file__).resolve().parents[2] / "scenarios"
MODELS = ["station_rotation", "algorithmic_schedule", "adaptive_playlist", "mastery_based", "project_based",
          "platform_mentor", "autonomy_levels", "high_dosage_tutoring"]

def scenario(name, over, **fields):
    doc = json.loads((SCENARIOS / f"{name}.json").read_text()); doc["parameters"] = copy.deepcopy(over); doc.update(fields)
    return doc

def last_effects(sim):
    h = sim.summary()["headline_effects"]
    return [list(h[s]["by_year"].values()) for s in ("math", "reading")]

def levels(over):
    tables = []
    for seed in (1, 2):
        a = plsim.Sim(scenario("national_baseline", over, years=5, seed=seed), threads=2).run().assessments
        a = a[a.season == "fall"]
        tables.append(a.assign(w=a.n * a.mean_sd).groupby(["year", "subject", "grade"])[["w", "n"]].sum())
    g = tables[0] + tables[1]; z = (g.w / g.n).abs()
    return f"{z.max():.3f} at {z.idxmax()}"

def quintiles(over, every_grade):
    sg = plsim.Sim(scenario("national_baseline", over, years=1), threads=2).run().subgroups
    out, worst = [], []
    for subject in ("math", "reading"):
        row = []
        for g in range(9):
            x = sg[(sg.subject == subject) & (sg.grade.astype(str) == str(g))]
            r = [float(x[x.subgroup == q].growth_true_rit.iloc[0] / x[x.subgroup == q].norm_growth_rit.iloc[0])
                 for q in ("start_q1", "start_q5")]
            row.append("%.2f/%.2f" % tuple(r)); worst += [(r[0], f"{subject} g{g} q1"), (r[1], f"{subject} g{g} q5")]
        out.append(f"  {subject:8s} q1/q5 by grade K-8: " + " ".join(row))
    head = f"{min(worst)[0]:.2f} ({min(worst)[1]}) to {max(worst)[0]:.2f} ({max(worst)[1]})"
    return head + ("\n" + "\n".join(out) if every_grade else "")

def model_effects(over, models):
    fid = {e: 0.8 for e in ("learner_profiles", "learning_paths", "competency_progression", "flexible_environment")} | {"sd": 0.1}
    rows = []
    for m in models:
        g = {"model": m, "implementation_year": 3, "fidelity": fid}
        doc = {"name": f"k8_{m}", "seed": 7, "years": 5, "counterfactual": "always", "parameters": over,
               "districts": [{"name": "d", "count": 2, "schools": [dict(g, level="elementary", count=6, enrollment=360),
                                                                  dict(g, level="middle", count=2, enrollment=540)]}]}
        rows.append(f"  {m:22s} " + " ".join(f"{v:+.3f}" for v in last_effects(plsim.Sim(doc, threads=2).run())[0]))
    return "\n".join(rows)

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("set"); ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=JSON")
    ap.add_argument("--calibrate", metavar="OUT"); ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--quintiles", action="store_true"); ap.add_argument("--iterations", type=int, default=8)
    a = ap.parse_args()
    over = json.loads(pathlib.Path(a.set).read_text())
    for item in a.overrides:
        path, value = item.split("=", 1); node = over; keys = path.split(".")
        for k in keys[:-1]: node = node.setdefault(k, {})
        node[keys[-1]] = json.loads(value)
    if a.calibrate:
        over = jointcal.joint(scenario("national_baseline", {}), over, iterations=a.iterations, verbose=False)
        pathlib.Path(a.calibrate).write_text(json.dumps(over))
    print("five-year fall level, worst:", levels(over))
    print("year-1 growth / norm, starting quintiles:", quintiles(over, a.quintiles))
    nglc = np.mean([[e[-1] for e in last_effects(plsim.Sim(scenario("nglc_like", over, seed=s), threads=2).run())] for s in (1, 2, 3)], axis=0)
    print(f"NGLC one-year effect: math {nglc[0]:+.3f} reading {nglc[1]:+.3f}")
    trial = np.mean([last_effects(plsim.Sim(scenario("evidence/tutoring_trial", over, seed=s), threads=2).run())[0][0] for s in (1, 2)])
    print(f"trial-sized tutoring, math: {trial:+.3f}")
    print("math effect by year 1-5, fidelity 0.8:\n" + model_effects(over, a.models.split(",")))

if __name__ == "__main__":
    main()
