"""What a narration is made of: the parts of the seed's walk-through as dataclasses.

A :class:`StepNarration` holds, for one unit of one step, the forget gate (f_t, % of the
long-term memory kept), the input gate (i_t, the sigmoid "% to remember" path), the potential
memory (g_t, the tanh path), the output gate (o_t), the new long-term memory (cell state
c_t), the new short-term memory (hidden state h_t) and optionally the Dense layer's
prediction, each with the numbers the engine recorded. It renders itself as text, Markdown,
HTML and JSON (:mod:`lstmlens.explain.render`). Build one with
:func:`lstmlens.explain.walkthrough.narrate_step`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

#: Seed order of the story, with (index in PyTorch's i, f, g, o stack, symbol, activation).
GATES: dict[str, tuple[int, str, str]] = {
    "forget_gate": (1, "f_t", "sigmoid"),
    "input_gate": (0, "i_t", "sigmoid"),
    "candidate_memory": (2, "g_t", "tanh"),
    "output_gate": (3, "o_t", "sigmoid"),
}


@dataclass(frozen=True)
class Term:
    """One part of a weighted sum: ``value x weight = product``, or a bias or a group.

    ``value`` and ``weight`` are ``None`` for the bias and for grouped terms (``count`` > 1
    inputs or memories summed together).
    """

    label: str
    source: str  # "input", "memory" or "bias"
    product: float
    value: float | None = None
    weight: float | None = None
    count: int = 1


@dataclass(frozen=True)
class GateStep:
    """One gate of the step: its weighted sum (split by source), activation and meaning.

    ``input_total``, ``memory_total`` and ``bias`` are the trace's ``input_part``,
    ``memory_part`` and ``bias`` for this gate and unit; ``weighted_sum`` is their total z
    and ``value`` the activation the engine recorded (f_t, i_t, g_t or o_t).
    """

    key: str
    symbol: str
    title: str
    activation: str
    terms: tuple[Term, ...]
    input_total: float
    memory_total: float
    bias: float
    weighted_sum: float
    value: float
    meaning: str


@dataclass(frozen=True)
class LongTermUpdate:
    """c_t = f_t x c_{t-1} + i_t x g_t: the new long-term memory (cell state)."""

    previous: float
    forget_gate: float
    kept: float
    input_gate: float
    candidate_memory: float
    added: float
    value: float
    meaning: str


@dataclass(frozen=True)
class ShortTermUpdate:
    """h_t = o_t x tanh(c_t): the new short-term memory (hidden state)."""

    output_gate: float
    long_term_memory: float
    squashed_memory: float
    value: float
    meaning: str


@dataclass(frozen=True)
class DenseStep:
    """The Dense layer's prediction: sum over units of weight x h, plus the bias.

    ``base`` is the forecast the network corrects (scaled units), when it predicts a
    correction; ``value_original_units`` the resulting forecast in the data's units.
    """

    output: int
    terms: tuple[Term, ...]
    bias: float
    value: float
    meaning: str
    value_original_units: float | None = None
    base: float | None = None


@dataclass(frozen=True)
class ArticleNote:
    """Where the seed article's printed number differs from what the engine computed."""

    section: str
    quantity: str
    article_value: float
    true_value: float
    text: str


@dataclass(frozen=True)
class StepNarration:
    """The seed's walk-through of one step of one unit, with the trace's numbers.

    Attributes
    ----------
    title : str
        One line saying which step, layer and unit this is.
    unit, hidden_size, input_size : int
        The unit narrated and the sizes of its layer.
    gates : tuple of GateStep
        Forget gate (f_t), input gate (i_t), potential memory (g_t), output gate (o_t), in
        the seed's order.
    long_term : LongTermUpdate
        The new long-term memory (cell state c_t).
    short_term : ShortTermUpdate
        The new short-term memory (hidden state h_t).
    dense : DenseStep or None
        The Dense layer's prediction, when this is the top layer's last step.
    notes : tuple of ArticleNote
        Differences from the seed article (only for :func:`seed_walkthrough`).
    layer, time : int or None
        Where the step sits in a network trace, if known.
    step_label : str or None
        The step's name in the data (a date, "t-3"), if known.
    """

    title: str
    unit: int
    hidden_size: int
    input_size: int
    gates: tuple[GateStep, ...]
    long_term: LongTermUpdate
    short_term: ShortTermUpdate
    dense: DenseStep | None = None
    notes: tuple[ArticleNote, ...] = ()
    layer: int | None = None
    time: int | None = None
    step_label: str | None = None

    def gate(self, key: str) -> GateStep:
        """Return the gate called ``key`` (``"forget_gate"``, ``"input_gate"``, ...)."""
        for gate in self.gates:
            if gate.key == key:
                return gate
        raise KeyError(f"no gate {key!r}; choose one of {list(GATES)}.")

    def notes_for(self, section: str) -> tuple[ArticleNote, ...]:
        """The article notes attached to ``section`` (a gate key, "long_term", ...)."""
        return tuple(note for note in self.notes if note.section == section)

    def to_dict(self) -> dict[str, Any]:
        """Every part as plain Python values (floats at full precision)."""
        return asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def to_text(self) -> str:
        """The walk-through as plain text, one number per quantity."""
        from lstmlens.explain import render

        return render.narration_text(self)

    def to_markdown(self) -> str:
        """The walk-through as Markdown."""
        from lstmlens.explain import render

        return render.narration_markdown(self)

    def to_html(self) -> str:
        """The walk-through as an HTML fragment (no scripts, no external links)."""
        from lstmlens.explain import render

        return render.narration_html(self)

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        return self.to_text()
