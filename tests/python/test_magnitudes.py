"""Magnitudes model by model (python -m plsim.magnitudes): the table docs/model.md shows."""
from __future__ import annotations

import numpy as np

from plsim import magnitudes


def test_the_table_has_every_band_year_and_subject_counted_from_one():
    table = magnitudes.model_magnitudes(years=2, seed=3, threads=2, models=("station_rotation",))
    assert sorted(table["year"].unique()) == [1, 2]
    assert set(table["band"]) == {"all", *magnitudes.GRADE_BANDS}
    assert set(table["fidelity"]) == set(magnitudes.FIDELITIES)
    # every band is a part of "all": the all-grades effect lies within the bands' range
    for (fidelity, subject, year), t in table.groupby(["fidelity", "subject", "year"]):
        bands = t[t["band"] != "all"]["effect_sd"]
        overall = float(t[t["band"] == "all"]["effect_sd"].iloc[0])
        assert bands.min() - 1e-9 <= overall <= bands.max() + 1e-9
    text = magnitudes.markdown(table)
    assert "| station_rotation | 0.8 |" in text and "Pane et al." in text


def test_a_higher_fidelity_delivers_more_of_a_demanding_model():
    table = magnitudes.model_magnitudes(years=1, seed=3, threads=2, models=("adaptive_playlist",))
    year1 = table[(table["band"] == "all") & (table["subject"] == "math")].set_index("fidelity")["effect_sd"]
    assert np.isfinite(year1).all() and year1["0.8"] > year1["nglc_like"]
