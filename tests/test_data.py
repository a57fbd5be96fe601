"""Reading and validating user data: every layout, every error message."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lstmlens.data import (
    DataError,
    Panel,
    calendar_features,
    check_min_length,
    future_timestamps,
    infer_freq,
    load_m4_wide,
    load_panel,
    to_long_frame,
)

M4_HOURLY = Path("/work/shared/data/m4-hourly-train.csv")


def _csv(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _long(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["unique_id", "ds", "y"])


# --- long format ------------------------------------------------------------------------------


def test_long_csv_sorted_by_time_ids_in_order_of_appearance(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "unique_id,ds,y\n"
        "b,2024-01-02,20\n"
        "b,2024-01-01,10\n"
        "a,2024-01-01,1\n"
        "b,2024-01-03,30\n"
        "a,2024-01-02,2\n"
        "a,2024-01-03,3\n",
    )
    panel = load_panel(path)
    assert panel.ids == ("b", "a")
    np.testing.assert_array_equal(panel.series("b"), [10.0, 20.0, 30.0])
    np.testing.assert_array_equal(panel.series("a"), [1.0, 2.0, 3.0])
    assert panel.freq == "D"
    assert panel.has_dates
    assert list(panel.timestamps[0]) == list(pd.date_range("2024-01-01", periods=3, freq="D"))
    assert panel.covariates is None


def test_long_frame_with_custom_column_names() -> None:
    frame = pd.DataFrame(
        {
            "store": ["s1"] * 3,
            "when": ["2024-01-01 00:00", "2024-01-01 01:00", "2024-01-01 02:00"],
            "sales": [5, 6, 7],
        }
    )
    panel = load_panel(frame, id_col="store", time_col="when", target_col="sales")
    assert panel.ids == ("s1",)
    assert panel.freq == "h"
    np.testing.assert_array_equal(panel.values[0], [5.0, 6.0, 7.0])


def test_extra_numeric_columns_become_covariates() -> None:
    frame = _long([("a", "2024-01-01", 1.0), ("a", "2024-01-02", 2.0), ("a", "2024-01-03", 3.0)])
    frame["price"] = [9.5, 9.0, 8.5]
    frame["promo"] = [0, 1, 0]
    panel = load_panel(frame)
    assert panel.covariate_names == ("price", "promo")
    assert panel.covariates is not None
    np.testing.assert_array_equal(panel.covariates[0], [[9.5, 0.0], [9.0, 1.0], [8.5, 0.0]])


def test_text_covariate_is_an_error() -> None:
    frame = _long([("a", "2024-01-01", 1.0), ("a", "2024-01-02", 2.0), ("a", "2024-01-03", 3.0)])
    frame["kind"] = ["x", "y", "z"]
    with pytest.raises(DataError, match=r"column 'kind' contains text 'x' at row 0"):
        load_panel(frame)


def test_integer_time_column_gives_a_range_index() -> None:
    panel = load_panel(_long([("a", "3", 1.0), ("a", "1", 5.0), ("a", "2", 4.0)]))
    assert isinstance(panel.timestamps[0], pd.RangeIndex)
    assert list(panel.timestamps[0]) == [1, 2, 3]
    assert panel.freq is None
    assert not panel.has_dates
    np.testing.assert_array_equal(panel.values[0], [5.0, 4.0, 1.0])


def test_missing_columns_list_the_columns_found(tmp_path: Path) -> None:
    path = _csv(tmp_path, "unique_id,date,value\na,2024-01-01,1\n")
    with pytest.raises(
        DataError,
        match=r"missing the column\(s\) \['ds', 'y'\] of the long format "
        r"\(columns found: unique_id, date, value\)",
    ):
        load_panel(path)


def test_custom_id_column_that_is_absent() -> None:
    with pytest.raises(DataError, match=r"missing the column\(s\) \['store'\]"):
        load_panel(_long([("a", "2024-01-01", 1.0)]), id_col="store")


def test_text_in_values_names_column_value_and_line(tmp_path: Path) -> None:
    path = _csv(tmp_path, "unique_id,ds,y\na,2024-01-01,1\na,2024-01-02,2\na,2024-01-03,abc\n")
    with pytest.raises(
        DataError, match=r"column 'y' contains text 'abc' at line 4, but the values must be numbers"
    ):
        load_panel(path)


def test_text_in_values_of_a_frame_names_the_row_label() -> None:
    frame = _long([("a", "2024-01-01", 1.0), ("a", "2024-01-02", 2.0)])
    frame["y"] = frame["y"].astype(object)
    frame.loc[1, "y"] = "n/a?"
    with pytest.raises(DataError, match=r"column 'y' contains text 'n/a\?' at row 1"):
        load_panel(frame)


def test_bad_date_is_named() -> None:
    frame = _long([("a", "2024-01-01", 1.0), ("a", "yesterday", 2.0)])
    with pytest.raises(DataError, match=r"column 'ds' contains 'yesterday' at row 1.*not a date"):
        load_panel(frame)


def test_empty_id_and_empty_time() -> None:
    frame = _long([("a", "2024-01-01", 1.0), ("a", "2024-01-02", 2.0)])
    frame.loc[1, "unique_id"] = None
    with pytest.raises(DataError, match="column 'unique_id' has an empty series id at row 1"):
        load_panel(frame)
    frame = _long([("a", "2024-01-01", 1.0), ("a", "2024-01-02", 2.0)])
    frame.loc[0, "ds"] = None
    with pytest.raises(DataError, match="column 'ds' has an empty timestamp at row 0"):
        load_panel(frame)


def test_duplicated_timestamps_name_series_and_time() -> None:
    frame = _long([("a", "2024-01-01", 1.0), ("b", "2024-01-01", 1.0), ("b", "2024-01-01", 2.0)])
    with pytest.raises(
        DataError, match=r"series 'b' has the timestamp 2024-01-01 00:00:00 more than once"
    ):
        load_panel(frame, freq="D")


# --- gaps and missing values ------------------------------------------------------------------


def _gappy() -> pd.DataFrame:
    # 2024-01-03 is absent from a daily series
    return _long(
        [
            ("a", "2024-01-01", 1.0),
            ("a", "2024-01-02", 2.0),
            ("a", "2024-01-04", 8.0),
            ("a", "2024-01-05", 9.0),
        ]
    )


def test_gap_in_a_regular_frequency_is_an_error() -> None:
    with pytest.raises(
        DataError,
        match=r"series 'a' has 1 missing timestamp\(s\) in its regular freq='D' spacing, "
        r"the first at 2024-01-03 00:00:00; pass missing='interpolate'",
    ):
        load_panel(_gappy())


def test_gap_is_filled_when_interpolating() -> None:
    panel = load_panel(_gappy(), missing="interpolate")
    np.testing.assert_allclose(panel.values[0], [1.0, 2.0, 5.0, 8.0, 9.0])  # (2 + 8) / 2
    assert list(panel.timestamps[0]) == list(pd.date_range("2024-01-01", periods=5))
    assert panel.freq == "D"


def test_gap_in_monthly_data_frequency_is_still_inferred() -> None:
    months = ["2020-01-01", "2020-02-01", "2020-03-01", "2020-05-01", "2020-06-01"]
    frame = _long([("a", m, float(i)) for i, m in enumerate(months)])
    panel = load_panel(frame, missing="interpolate")
    assert panel.freq == "MS"
    np.testing.assert_allclose(panel.values[0], [0.0, 1.0, 2.0, 2.5, 3.0, 4.0])


def test_off_grid_timestamp_is_an_error() -> None:
    frame = _long(
        [
            ("a", "2024-01-01 00:00", 1.0),
            ("a", "2024-01-01 01:00", 2.0),
            ("a", "2024-01-01 02:30", 3.0),
        ]
    )
    with pytest.raises(DataError, match=r"timestamp 2024-01-01 02:30:00, which is off its regular"):
        load_panel(frame, freq="h", missing="interpolate")


def _with_nans() -> pd.DataFrame:
    values = [math.nan, 2.0, math.nan, 6.0, math.inf]
    return _long([("a", f"2024-01-0{i + 1}", v) for i, v in enumerate(values)])


def test_missing_values_are_an_error_by_default() -> None:
    with pytest.raises(
        DataError,
        match=r"series 'a' has 3 missing or non-finite target value\(s\), the first at "
        r"2024-01-01 00:00:00 \(nan\); pass missing='interpolate'.*or missing='drop'",
    ):
        load_panel(_with_nans())


def test_interpolate_is_linear_inside_and_nearest_at_the_edges() -> None:
    panel = load_panel(_with_nans(), missing="interpolate")
    np.testing.assert_allclose(panel.values[0], [2.0, 2.0, 4.0, 6.0, 6.0])


def test_drop_removes_the_rows_with_missing_values() -> None:
    panel = load_panel(_with_nans(), missing="drop")
    np.testing.assert_array_equal(panel.values[0], [2.0, 6.0])
    assert [str(t.date()) for t in panel.timestamps[0]] == ["2024-01-02", "2024-01-04"]


def test_missing_covariate_values_follow_the_policy() -> None:
    frame = _long([("a", f"2024-01-0{i + 1}", float(i)) for i in range(3)])
    frame["temp"] = [1.0, math.nan, 3.0]
    with pytest.raises(DataError, match="missing or non-finite temp value"):
        load_panel(frame)
    panel = load_panel(frame, missing="interpolate")
    assert panel.covariates is not None
    np.testing.assert_allclose(panel.covariates[0][:, 0], [1.0, 2.0, 3.0])


def test_series_without_any_value() -> None:
    frame = _long(
        [
            ("a", "2024-01-01", 1.0),
            ("a", "2024-01-02", 2.0),
            ("a", "2024-01-03", 3.0),
            ("b", "2024-01-01", math.nan),
        ]
    )
    with pytest.raises(
        DataError, match="series 'b' has no finite target values; remove the series"
    ):
        load_panel(frame, missing="interpolate")


def test_bad_missing_policy() -> None:
    with pytest.raises(
        DataError, match=r"missing must be one of \['error', 'interpolate', 'drop'\], got 'fill'"
    ):
        load_panel([1.0, 2.0], missing="fill")  # type: ignore[arg-type]


def test_bad_freq() -> None:
    with pytest.raises(DataError, match="freq='hourly' is not a pandas frequency alias"):
        load_panel(_gappy(), freq="hourly")


def test_series_with_different_frequencies() -> None:
    daily = [("a", f"2024-01-0{i + 1}", 1.0) for i in range(3)]
    hourly = [("b", f"2024-01-01 0{i}:00", 1.0) for i in range(3)]
    with pytest.raises(DataError, match=r"different frequencies: 'D' \(series 'a'\), 'h'"):
        load_panel(_long(daily + hourly))


def test_frequency_cannot_be_inferred_from_two_dates() -> None:
    # the message says why (too few dates, not an irregular spacing) and both ways out
    with pytest.raises(DataError, match=r"longest series has 2 date\(s\), and it takes 3; "
                                        r"give longer series .* or pass freq="):
        load_panel(_long([("a", "2024-01-01", 1.0), ("a", "2024-01-02", 2.0),
                          ("b", "2024-01-01", 1.0)]))
    panel = load_panel(_long([("a", "2024-01-01", 1.0), ("a", "2024-01-02", 2.0)]), freq="D")
    assert panel.freq == "D"


def test_frequency_cannot_be_inferred_from_irregular_dates() -> None:
    dates = ["2024-01-01 00:00", "2024-01-01 00:07", "2024-01-01 05:00", "2024-01-03 00:13"]
    with pytest.raises(DataError, match=r"\(too few dates or irregular spacing\); pass freq="):
        load_panel(_long([("a", day, float(i)) for i, day in enumerate(dates)]))


def test_constant_series_are_allowed_and_reported() -> None:
    frame = _long(
        [("flat", f"2024-01-0{i + 1}", 4.0) for i in range(3)]
        + [("moving", f"2024-01-0{i + 1}", float(i)) for i in range(3)]
    )
    assert load_panel(frame).constant_ids() == ("flat",)


# --- wide and single-column formats -----------------------------------------------------------


def test_wide_csv_with_date_column_and_padding(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "ds,north,south\n2024-01-01,,5\n2024-01-02,1,6\n2024-01-03,2,7\n2024-01-04,3,\n",
    )
    panel = load_panel(path)
    assert panel.ids == ("north", "south")
    np.testing.assert_array_equal(panel.series("north"), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(panel.series("south"), [5.0, 6.0, 7.0])
    assert str(panel.timestamps[0][0].date()) == "2024-01-02"
    assert str(panel.timestamps[1][-1].date()) == "2024-01-03"
    assert panel.freq == "D"


def test_wide_csv_with_any_date_column(tmp_path: Path) -> None:
    path = _csv(tmp_path, "x,month\n1,2023-01\n2,2023-02\n3,2023-03\n")
    panel = load_panel(path)
    assert panel.ids == ("x",)
    assert panel.freq == "MS"


def test_wide_frame_with_datetime_index() -> None:
    frame = pd.DataFrame(
        {"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 6.0]},
        index=pd.date_range("2024-03-01", periods=3, freq="h"),
    )
    panel = load_panel(frame)
    assert panel.ids == ("a", "b")
    assert panel.freq == "h"


def test_wide_text_error_suggests_the_long_format(tmp_path: Path) -> None:
    path = _csv(tmp_path, "id,date,value\nA,2024-01-01,1\nA,2024-01-02,2\n")
    with pytest.raises(
        DataError,
        match=r"column 'id' contains text 'A' at line 2.*If this is a long-format table, name "
        r"its columns with id_col=.*columns found: id, date, value",
    ):
        load_panel(path)


def test_single_column_with_header(tmp_path: Path) -> None:
    panel = load_panel(_csv(tmp_path, "sales\n3\n4\n5\n"))
    assert panel.ids == ("sales",)
    np.testing.assert_array_equal(panel.values[0], [3.0, 4.0, 5.0])
    assert isinstance(panel.timestamps[0], pd.RangeIndex)
    assert panel.freq is None


def test_single_column_without_header(tmp_path: Path) -> None:
    panel = load_panel(_csv(tmp_path, "3\n4.5\n-5\n"))
    assert panel.ids == ("series_0",)
    np.testing.assert_array_equal(panel.values[0], [3.0, 4.5, -5.0])


def test_headerless_text_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"column 'series_0' contains text 'x' at line 3"):
        load_panel(_csv(tmp_path, "3\n4\nx\n"))


def test_headerless_dates_and_values(tmp_path: Path) -> None:
    panel = load_panel(_csv(tmp_path, "2024-01-01,3\n2024-01-02,4\n2024-01-03,5\n"))
    assert panel.ids == ("series_1",)
    assert panel.freq == "D"
    np.testing.assert_array_equal(panel.values[0], [3.0, 4.0, 5.0])


@pytest.mark.parametrize(
    "source", [[1, 2, 3], np.array([1.0, 2.0, 3.0]), (1.0, 2.0, 3.0), pd.Series([1, 2, 3])]
)
def test_list_array_and_series(source: object) -> None:
    panel = load_panel(source)  # type: ignore[arg-type]
    assert panel.ids == ("series_0",)
    np.testing.assert_array_equal(panel.values[0], [1.0, 2.0, 3.0])
    assert panel.values[0].dtype == np.float64


def test_named_series_with_dates() -> None:
    series = pd.Series(
        [1.0, 2.0, 3.0], index=pd.date_range("2024-01-01", periods=3, freq="W"), name="visits"
    )
    panel = load_panel(series)
    assert panel.ids == ("visits",)
    assert panel.freq == "W-SUN"


def test_two_dimensional_array_is_refused() -> None:
    with pytest.raises(DataError, match=r"an array source must be 1-D \(one series\), got shape"):
        load_panel(np.ones((3, 2)))


def test_text_in_a_list_names_the_position() -> None:
    with pytest.raises(DataError, match=r"column 'series_0' contains text 'x' at row 1"):
        load_panel([1, "x", 3])  # type: ignore[arg-type]


# --- files ------------------------------------------------------------------------------------


def test_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"file not found: .*nope.csv; check the path"):
        load_panel(tmp_path / "nope.csv")


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"file .*empty.csv is empty"):
        load_panel(_csv(tmp_path, "", "empty.csv"))


def test_header_only_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="has a header but no data rows"):
        load_panel(_csv(tmp_path, "unique_id,ds,y\n"))


def test_empty_frame() -> None:
    with pytest.raises(DataError, match=r"the data is empty \(shape \(0, 3\)\)"):
        load_panel(pd.DataFrame(columns=["unique_id", "ds", "y"]))


def test_repeated_column_names(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"repeats column names \['y'\]"):
        load_panel(_csv(tmp_path, "ds,y,y\n2024-01-01,1,2\n"))


# --- M4 layout (one series per row) -----------------------------------------------------------


def test_rows_as_series_with_trailing_padding(tmp_path: Path) -> None:
    path = _csv(tmp_path, '"V1","V2","V3","V4"\n"H1",1,2,3\n"H2",4,5,\n')
    for panel in (load_m4_wide(path), load_panel(path)):
        assert panel.ids == ("H1", "H2")
        np.testing.assert_array_equal(panel.values[1], [4.0, 5.0])
        assert list(panel.timestamps[1]) == [0, 1]
    assert load_m4_wide(path).freq == "h"
    assert load_panel(path).freq is None


def test_rows_as_series_interior_gap_follows_the_policy(tmp_path: Path) -> None:
    path = _csv(tmp_path, "V1,V2,V3,V4\nH1,1,,3\n")
    with pytest.raises(DataError, match=r"series 'H1' has 1 missing or non-finite target"):
        load_m4_wide(path)
    np.testing.assert_allclose(load_m4_wide(path, missing="interpolate").values[0], [1, 2, 3])


def test_rows_as_series_text_value(tmp_path: Path) -> None:
    path = _csv(tmp_path, "V1,V2,V3\nH1,1,2\nH2,3,oops\n")
    with pytest.raises(DataError, match=r"column 'V3' contains text 'oops' at line 3"):
        load_m4_wide(path)


def test_rows_as_series_duplicated_id(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"ids must be unique; repeated: 'H1'"):
        load_m4_wide(_csv(tmp_path, "V1,V2\nH1,1\nH1,2\n"))


@pytest.mark.skipif(not M4_HOURLY.is_file(), reason=f"M4 Hourly data not found at {M4_HOURLY}")
def test_m4_hourly_train_file() -> None:
    with M4_HOURLY.open(newline="") as stream:  # independent reading with the csv module
        rows = list(csv.reader(stream))[1:]
    expected = {row[0]: [float(v) for v in row[1:] if v != ""] for row in rows}
    panel = load_m4_wide(M4_HOURLY)
    assert len(panel) == 414
    assert panel.ids[:3] == ("H1", "H2", "H3")
    assert panel.ids[-1] == "H414"
    lengths = panel.lengths()
    assert lengths.min() == 700
    assert lengths.max() == 960
    assert sorted(set(lengths.tolist())) == [700, 960]
    assert int((lengths == 960).sum()) == 245
    assert panel.freq == "h"
    for sid, values in zip(panel.ids, panel.values, strict=True):
        np.testing.assert_array_equal(values, expected[sid])
    assert all(isinstance(t, pd.RangeIndex) and t.start == 0 for t in panel.timestamps)


# --- Panel ------------------------------------------------------------------------------------


def _panel() -> Panel:
    frame = _long(
        [("a", f"2024-01-0{i + 1}", float(i + 1)) for i in range(5)]
        + [("b", f"2024-01-0{i + 1}", float(10 * (i + 1))) for i in range(3)]
    )
    return load_panel(frame)


def test_unknown_series_id_lists_known_ids() -> None:
    with pytest.raises(
        DataError, match=r"unknown series id 'c'; the panel has 2 series \('a', 'b'\)"
    ):
        _panel().series("c")


def test_subset_keeps_the_given_order() -> None:
    sub = _panel().subset(["b", "a"])
    assert sub.ids == ("b", "a")
    np.testing.assert_array_equal(sub.values[0], [10.0, 20.0, 30.0])


def test_split_last() -> None:
    history, holdout = _panel().split_last(2)
    np.testing.assert_array_equal(history.series("a"), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(holdout.series("a"), [4.0, 5.0])
    np.testing.assert_array_equal(holdout.series("b"), [20.0, 30.0])
    assert str(holdout.timestamps[1][0].date()) == "2024-01-02"
    assert history.lengths().tolist() == [3, 1]


def test_split_last_needs_one_value_left() -> None:
    with pytest.raises(
        DataError,
        match=r"1 of 2 series have fewer than 4 observations, the minimum for holding out the "
        r"last h=3 values: 'b' \(3\)\. Remove them or lower the input size/horizon\.",
    ):
        _panel().split_last(3)


def test_drop_last_and_head_until() -> None:
    panel = _panel()
    np.testing.assert_array_equal(panel.drop_last(1).series("a"), [1.0, 2.0, 3.0, 4.0])
    assert panel.drop_last(0) is panel
    cut = panel.head_until("2024-01-02")
    assert cut.lengths().tolist() == [2, 2]
    with pytest.raises(DataError, match=r"no observations at or before 2023-12-31 in series 'a'"):
        panel.head_until("2023-12-31")


def test_check_min_length_lists_at_most_ten_ids() -> None:
    panel = Panel.from_arrays({f"s{i}": np.ones(3) for i in range(12)})
    with pytest.raises(DataError) as caught:
        check_min_length(panel, 5, what="input_size + h = 5")
    message = str(caught.value)
    assert message.startswith("12 of 12 series have fewer than 5 observations")
    assert "'s9' (3) and 2 more" in message
    assert "'s10'" not in message
    assert message.endswith("Remove them or lower the input size/horizon.")
    check_min_length(panel, 3, what="anything")  # long enough: no error


def test_from_arrays_and_to_frame() -> None:
    panel = Panel.from_arrays([[1, 2], [3.5]])
    assert panel.ids == ("series_0", "series_1")
    frame = panel.to_frame()
    assert list(frame.columns) == ["unique_id", "ds", "y"]
    assert frame["unique_id"].tolist() == ["series_0", "series_0", "series_1"]
    assert frame["ds"].tolist() == [0, 1, 0]
    assert frame["y"].tolist() == [1.0, 2.0, 3.5]
    with pytest.raises(
        DataError, match="series 'x' has a missing or non-finite value at position 1"
    ):
        Panel.from_arrays({"x": [1.0, math.nan]})


def test_panel_checks_its_parts() -> None:
    with pytest.raises(DataError, match="as long as its timestamps"):
        Panel(ids=("a",), values=(np.ones(3),), timestamps=(pd.RangeIndex(2),))
    with pytest.raises(DataError, match="one values array and one timestamp index per id"):
        Panel(ids=("a", "b"), values=(np.ones(3),), timestamps=(pd.RangeIndex(3),))


def test_future_timestamps_of_a_panel() -> None:
    (first, second) = _panel().future_timestamps(2)
    assert [str(t.date()) for t in first] == ["2024-01-06", "2024-01-07"]
    assert [str(t.date()) for t in second] == ["2024-01-04", "2024-01-05"]


# --- time helpers -----------------------------------------------------------------------------


def test_future_timestamps() -> None:
    assert list(future_timestamps(pd.RangeIndex(0, 10), None, 3)) == [10, 11, 12]
    assert list(future_timestamps(pd.RangeIndex(0, 10, 2), None, 2)) == [10, 12]
    assert list(future_timestamps(7, "h", 2)) == [8, 9]
    stamps = future_timestamps(pd.Timestamp("2024-01-31"), "MS", 2)
    assert [str(t.date()) for t in stamps] == ["2024-02-01", "2024-03-01"]
    hourly = future_timestamps(pd.date_range("2024-01-01", periods=3, freq="h"), "h", 1)
    assert list(hourly) == [pd.Timestamp("2024-01-01 03:00")]
    with pytest.raises(DataError, match="freq is needed to extend dated timestamps"):
        future_timestamps(pd.Timestamp("2024-01-01"), None, 1)
    with pytest.raises(DataError, match="h must be an integer >= 1, got 0"):
        future_timestamps(pd.RangeIndex(3), None, 0)


def test_infer_freq_tolerates_gaps() -> None:
    stamps = pd.DatetimeIndex(
        ["2024-01-01 00:00", "2024-01-01 01:00", "2024-01-01 02:00", "2024-01-01 05:00"]
    )
    assert infer_freq(stamps) == "h"
    assert infer_freq(stamps[:2]) is None


def test_calendar_features_hourly() -> None:
    # 2024-01-01 is a Monday (day of week 0); 06:00 is a quarter of the way round the clock
    stamps = pd.DatetimeIndex(["2024-01-01 06:00", "2024-07-03 18:00"])
    features, names = calendar_features(stamps, "h")
    assert names == (
        "hour_sin",
        "hour_cos",
        "dayofweek_sin",
        "dayofweek_cos",
        "month_sin",
        "month_cos",
    )
    expected_first = [1.0, 0.0, 0.0, 1.0, 0.0, 1.0]
    # Wednesday (2) in July (month index 6, half way round the year) at 18:00 (three quarters)
    expected_second = [
        -1.0,
        0.0,
        math.sin(2 * math.pi * 2 / 7),
        math.cos(2 * math.pi * 2 / 7),
        0.0,
        -1.0,
    ]
    np.testing.assert_allclose(features, [expected_first, expected_second], atol=1e-12)


@pytest.mark.parametrize(
    ("freq", "names"),
    [
        ("D", ("dayofweek_sin", "dayofweek_cos", "month_sin", "month_cos")),
        ("W", ("month_sin", "month_cos")),
        ("MS", ("month_sin", "month_cos")),
        ("QS", ("month_sin", "month_cos")),
        ("YS", ()),
        (
            "15min",
            ("hour_sin", "hour_cos", "dayofweek_sin", "dayofweek_cos", "month_sin", "month_cos"),
        ),
    ],
)
def test_calendar_features_by_frequency(freq: str, names: tuple[str, ...]) -> None:
    stamps = pd.date_range("2024-01-01", periods=4, freq=freq)
    features, found = calendar_features(stamps, freq)
    assert found == names
    assert features.shape == (4, len(names))


def test_calendar_features_infers_freq_and_needs_dates() -> None:
    _, names = calendar_features(pd.date_range("2024-01-01", periods=4, freq="MS"))
    assert names == ("month_sin", "month_cos")
    with pytest.raises(DataError, match="calendar features need dates"):
        calendar_features(pd.RangeIndex(4), "h")  # type: ignore[arg-type]


# --- output -----------------------------------------------------------------------------------


def test_to_long_frame() -> None:
    stamps = [
        pd.date_range("2024-01-01", periods=2, freq="D"),
        pd.date_range("2024-02-01", periods=2, freq="D"),
    ]
    frame = to_long_frame(
        ["a", "b"],
        stamps,
        {"LSTM": [[1.0, 2.0], [3.0, 4.0]], "LSTM-lo-80": [[0.5, 1.5], [2.5, 3.5]]},
    )
    assert list(frame.columns) == ["unique_id", "ds", "LSTM", "LSTM-lo-80"]
    assert frame["unique_id"].tolist() == ["a", "a", "b", "b"]
    assert [str(t.date()) for t in frame["ds"]] == [
        "2024-01-01",
        "2024-01-02",
        "2024-02-01",
        "2024-02-02",
    ]
    assert frame["LSTM"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert frame["LSTM-lo-80"].tolist() == [0.5, 1.5, 2.5, 3.5]


def test_to_long_frame_checks_shapes() -> None:
    with pytest.raises(
        DataError, match=r"column 'LSTM' must have shape \(n_series, h\) = \(1, 2\)"
    ):
        to_long_frame(["a"], [pd.RangeIndex(2)], {"LSTM": [1.0, 2.0, 3.0]})
    with pytest.raises(DataError, match="got 2 ids but 1 timestamp indexes"):
        to_long_frame(["a", "b"], [pd.RangeIndex(2)], {})
