"""The embedded airline passengers series matches the Box-Jenkins data."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstmlens.data import load_panel
from lstmlens.datasets import air_passengers_path, load_air_passengers

# Yearly totals of the Box & Jenkins series (thousands of passengers), 1949..1960.
YEARLY_TOTALS = [1520, 1676, 2042, 2364, 2700, 2867, 3408, 3939, 4421, 4572, 5140, 5714]


def test_path_points_to_a_csv_with_ds_and_y() -> None:
    path = air_passengers_path()
    assert path.is_file()
    assert path.read_text().splitlines()[:2] == ["ds,y", "1949-01-01,112"]


def test_long_frame_shape_and_columns() -> None:
    frame = load_air_passengers()
    assert list(frame.columns) == ["unique_id", "ds", "y"]
    assert frame.shape == (144, 3)
    assert set(frame["unique_id"]) == {"AirPassengers"}
    assert frame["y"].dtype == np.float64
    expected = pd.date_range("1949-01-01", "1960-12-01", freq="MS")
    assert list(frame["ds"]) == list(expected)


def test_values_match_the_published_series() -> None:
    y = load_air_passengers()["y"].to_numpy()
    first_year = [112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118]
    last_year = [417, 391, 419, 461, 472, 535, 622, 606, 508, 461, 390, 432]
    np.testing.assert_array_equal(y[:12], first_year)
    np.testing.assert_array_equal(y[-12:], last_year)
    np.testing.assert_array_equal(y.reshape(12, 12).sum(axis=1), YEARLY_TOTALS)
    assert y.min() == 104
    assert y.max() == 622


def test_loads_as_a_monthly_panel() -> None:
    panel = load_panel(load_air_passengers())
    assert panel.ids == ("AirPassengers",)
    assert panel.freq == "MS"
    assert panel.lengths().tolist() == [144]
    from_file = load_panel(air_passengers_path())
    np.testing.assert_array_equal(from_file.values[0], panel.values[0])
