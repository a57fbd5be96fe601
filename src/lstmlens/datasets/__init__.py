"""Small datasets shipped with lstmlens, for examples, tutorials and tests.

``air_passengers.csv`` is the classic Box & Jenkins (1976) series of monthly international
airline passengers, in thousands, January 1949 to December 1960 (144 values; the same data
as R's ``AirPassengers``). Its columns are ``ds`` (first day of the month) and ``y``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

__all__ = ["AIR_PASSENGERS_ID", "air_passengers_path", "load_air_passengers"]

#: ``unique_id`` of the airline passengers series in :func:`load_air_passengers`.
AIR_PASSENGERS_ID = "AirPassengers"


def air_passengers_path() -> Path:
    """Path of the bundled ``air_passengers.csv`` (columns ``ds``, ``y``).

    Returns
    -------
    pathlib.Path
        A real file on disk, usable as a CSV path, e.g. for ``lstmlens fit``.
    """
    resource = resources.files(__name__).joinpath("air_passengers.csv")
    return Path(str(resource))


def load_air_passengers() -> pd.DataFrame:
    """Monthly airline passengers 1949-1960 as a long data frame.

    Returns
    -------
    pandas.DataFrame
        144 rows with columns ``unique_id`` (``"AirPassengers"``), ``ds`` (datetime, month
        start) and ``y`` (float, thousands of passengers).

    Examples
    --------
    >>> df = load_air_passengers()
    >>> df.shape
    (144, 3)
    """
    frame = pd.read_csv(air_passengers_path(), parse_dates=["ds"])
    frame["y"] = frame["y"].astype("float64")
    frame.insert(0, "unique_id", AIR_PASSENGERS_ID)
    return frame
