"""A rich progress bar over training steps (rich is imported only when the bar is shown)."""

from __future__ import annotations

from typing import Any

__all__ = ["TrainingProgress"]


class TrainingProgress:
    """Context manager showing steps done over all ensemble members, or nothing.

    Parameters
    ----------
    enabled : bool
        Show the bar; when False every method is a no-op.
    steps_per_member : int or None
        Planned steps of each member (None when training is time-limited).
    members : int
        Ensemble size.
    """

    def __init__(self, enabled: bool, steps_per_member: int | None, members: int) -> None:
        self.enabled = enabled
        self.steps_per_member = steps_per_member
        self.members = members
        self._bar: Any = None
        self._task: Any = None
        self._offset = 0

    def __enter__(self) -> TrainingProgress:
        if self.enabled:
            from rich.progress import (
                BarColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("[bold]LSTM[/] {task.description}"),
                BarColumn(),
                TextColumn("{task.fields[loss]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                transient=True,
            )
            per_member = self.steps_per_member
            total = None if per_member is None else per_member * self.members
            self._bar.start()
            self._task = self._bar.add_task("training", total=total, loss="")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def start_member(self, member: int, steps_done: int) -> None:
        """Announce member ``member`` (0-based) after ``steps_done`` steps in total."""
        self._offset = steps_done
        if self._bar is not None:
            self._bar.update(self._task, description=f"member {member + 1}/{self.members}")

    def member_done(self, result: Any) -> None:
        """A member trained elsewhere (another process) finished after ``result.steps``."""
        self._offset += int(result.steps)
        if self._bar is not None:
            self._bar.update(self._task, completed=self._offset)

    def on_step(self, step: int, planned: int | None, loss: float) -> None:
        """Training callback: ``step`` steps done in the current member."""
        if self._bar is not None and step % 10 == 0:
            self._bar.update(self._task, completed=self._offset + step, loss=f"loss {loss:.4f}")
