"""Request bodies of the explorer's ``POST`` endpoints, as pydantic models.

Types and static bounds are checked here (so a wrong type or a NaN is a ``422`` before any
model code runs); bounds that depend on the model (step < T, unit < H) are checked by
:class:`~lstmlens.explorer.session.ExplorerSession`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from lstmlens.explorer.whatif import MAX_ABS_VALUE, MAX_EDITS, Edit, InputEdit, WeightEdit

Index = Annotated[int, Field(ge=0, le=1_000_000, strict=True)]
Value = Annotated[
    float, Field(allow_inf_nan=False, ge=-MAX_ABS_VALUE, le=MAX_ABS_VALUE, strict=False)
]


class InputEditBody(BaseModel):
    """Change the scaled network input ``x[step, feature]``."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["input"]
    step: Index
    feature: Index
    value: Value

    def to_edit(self) -> InputEdit:
        """The engine-side edit."""
        return InputEdit(step=self.step, feature=self.feature, value=self.value)


class WeightEditBody(BaseModel):
    """Change one parameter entry, e.g. ``weight_ih_l0[row, col]`` or ``bias_ih_l0[row]``."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["weight"]
    name: Annotated[str, Field(min_length=1, max_length=64)]
    row: Index
    col: Index | None = None
    value: Value

    def to_edit(self) -> WeightEdit:
        """The engine-side edit."""
        return WeightEdit(name=self.name, row=self.row, col=self.col, value=self.value)


class WhatIfBody(BaseModel):
    """``POST /api/whatif``: which unit and step to show, and the edits to apply."""

    model_config = ConfigDict(extra="forbid")

    series_id: Annotated[str, Field(min_length=1, max_length=256)]
    layer: Index = 0
    unit: Index = 0
    step: Index = 0
    edits: Annotated[
        list[Annotated[InputEditBody | WeightEditBody, Field(discriminator="kind")]],
        Field(max_length=MAX_EDITS),
    ] = Field(default_factory=list)

    def to_edits(self) -> list[Edit]:
        """The engine-side edits, in order."""
        return [edit.to_edit() for edit in self.edits]
