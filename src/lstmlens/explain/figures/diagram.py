"""The seed's picture of one LSTM unit, with the step's real numbers on every path.

Across the top runs the long-term memory (cell state): c_{t-1} is scaled by the forget gate
(f_t), then the input gate (i_t, sigmoid "% to remember") times the potential memory (g_t,
tanh path) is added, giving c_t. Along the bottom come the input x_t and the short-term
memory (hidden state) h_{t-1}, which feed every gate. On the right the output gate (o_t)
scales tanh(c_t) into the new short-term memory h_t, which the Dense layer turns into the
prediction. Every number is read from a :class:`~lstmlens.explain.narration.StepNarration`.
"""

from __future__ import annotations

import textwrap

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from lstmlens.explain._numbers import compact, fixed, parenthesised
from lstmlens.explain.figures._base import COLOURS, new_figure
from lstmlens.explain.narration import GateStep, StepNarration

MEMORY_Y = 8.6  # the long-term memory line
BUS_Y = 1.2  # the short-term memory / input line
BOX_Y = 4.2  # centre of the gate boxes
GATE_X = {"forget_gate": 3.2, "input_gate": 6.4, "candidate_memory": 9.4, "output_gate": 12.4}
FORGET_NODE = (3.2, MEMORY_Y)
PLUS_NODE = (8.0, MEMORY_Y)
WRITE_NODE = (8.0, 6.7)
SQUASH_NODE = (14.4, 7.0)
OUTPUT_NODE = (14.4, 5.4)
LABELS = {
    "forget_gate": "forget gate",
    "input_gate": "input gate\n(% to remember)",
    "candidate_memory": "potential memory",
    "output_gate": "output gate",
}


def unit_diagram(narration: StepNarration, *, width: float = 13.0, height: float = 7.0) -> Figure:
    """Draw one step of one unit as the seed draws it, with the step's numbers.

    Parameters
    ----------
    narration : StepNarration
        From :func:`~lstmlens.explain.walkthrough.narrate_step` or
        :func:`~lstmlens.explain.seed_example.seed_walkthrough`.
    width, height : float
        Figure size in inches (100 pixels each).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = new_figure(width, height)
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.9))
    ax.set_xlim(0, 18)
    ax.set_ylim(0, 10)
    ax.axis("off")
    fig.suptitle("\n".join(textwrap.wrap(narration.title, 110)), fontsize=11)
    gates = {gate.key: gate for gate in narration.gates}
    lt, st = narration.long_term, narration.short_term

    # The long-term memory line across the top: c_{t-1} -> x f_t -> + i_t g_t -> c_t.
    memory = COLOURS["long_term_memory"]
    ax.plot([0.3, 17.7], [MEMORY_Y, MEMORY_Y], color=memory, linewidth=3, zorder=1)
    ax.text(0.3, MEMORY_Y + 0.35, f"long-term memory $c_{{t-1}}$ = {compact(lt.previous)}",
            color=memory, fontsize=10, ha="left")
    ax.text(5.6, MEMORY_Y + 0.35, f"kept {fixed(lt.kept)}", color=memory, ha="center")
    ax.text(17.7, MEMORY_Y + 0.35, f"$c_t$ = {fixed(lt.value)}", color=memory, ha="right",
            fontsize=10, fontweight="bold")
    _node(ax, FORGET_NODE, "×", memory)
    _node(ax, PLUS_NODE, "+", memory)
    _node(ax, WRITE_NODE, "×", COLOURS["input_gate"])
    _arrow(ax, WRITE_NODE, PLUS_NODE, memory, f"adds {fixed(lt.added)}", (8.2, 7.6), "left")

    # The bus: the input x_t and the short-term memory h_{t-1} feed every gate.
    bus = COLOURS["short_term_memory"]
    ax.plot([0.3, 13.2], [BUS_Y, BUS_Y], color=bus, linewidth=2, zorder=1)
    ax.text(0.3, BUS_Y - 0.45, _bus_label(narration), color=bus, fontsize=9,
            ha="left", va="top")
    for key, gate in gates.items():
        _gate(ax, gate, key)

    # Gate outputs to where they act.
    _arrow(ax, (GATE_X["forget_gate"], BOX_Y + 0.85), FORGET_NODE, COLOURS["forget_gate"],
           f"$f_t$ = {fixed(lt.forget_gate)}", (3.35, 6.6), "left")
    _arrow(ax, (GATE_X["input_gate"], BOX_Y + 0.85), WRITE_NODE, COLOURS["input_gate"],
           f"$i_t$ = {fixed(lt.input_gate)}", (6.1, 6.1), "right")
    _arrow(ax, (GATE_X["candidate_memory"], BOX_Y + 0.85), WRITE_NODE,
           COLOURS["candidate_memory"], f"$g_t$ = {fixed(lt.candidate_memory)}", (9.6, 6.1),
           "left")

    # Output side: tanh(c_t) scaled by o_t gives the short-term memory h_t.
    ax.plot([SQUASH_NODE[0]] * 2, [MEMORY_Y, SQUASH_NODE[1] + 0.35], color=memory, linewidth=1.5)
    _node(ax, SQUASH_NODE, "tanh", memory, radius=0.42, fontsize=9)
    ax.text(SQUASH_NODE[0] + 0.55, SQUASH_NODE[1], f"tanh($c_t$) = {fixed(st.squashed_memory)}",
            fontsize=9, va="center")
    _node(ax, OUTPUT_NODE, "×", COLOURS["output_gate"])
    _arrow(ax, (SQUASH_NODE[0], SQUASH_NODE[1] - 0.42), OUTPUT_NODE, memory, None, None, "left")
    _arrow(ax, (GATE_X["output_gate"] + 1.2, BOX_Y + 0.4), OUTPUT_NODE, COLOURS["output_gate"],
           f"$o_t$ = {fixed(st.output_gate)}", (13.2, 5.6), "right")
    corner = (OUTPUT_NODE[0], 2.4)
    ax.plot([OUTPUT_NODE[0]] * 2, [OUTPUT_NODE[1] - 0.3, corner[1]], color=bus, linewidth=1.5)
    ax.text(14.6, 3.9, f"short-term memory\n$h_t$ = {fixed(st.value)}", ha="left",
            va="center", fontsize=9, color=bus)
    dense = narration.dense
    if dense is not None:
        _box(ax, (16.4, corner[1]), 2.4, 1.9,
             f"Dense layer\n{_dense_formula(narration)}\n= {fixed(dense.value)}\n(prediction)",
             COLOURS["dense"])
        _arrow(ax, corner, (15.2, corner[1]), bus, None, None, "left", shrink=0)
    return fig


def _bus_label(narration: StepNarration) -> str:
    forget = narration.gate("forget_gate")
    inputs = [t for t in forget.terms if t.source == "input"]
    memories = [t for t in forget.terms if t.source == "memory"]
    x = (f"input $x_t$ = {compact(inputs[0].value)}"
         if len(inputs) == 1 and inputs[0].value is not None and narration.input_size == 1
         else f"inputs $x_t$ ({narration.input_size} features)")
    h = (f"short-term memory $h_{{t-1}}$ = {compact(memories[0].value)}"
         if len(memories) == 1 and memories[0].value is not None and narration.hidden_size == 1
         else f"short-term memory $h_{{t-1}}$ ({narration.hidden_size} units)")
    return f"{x};  {h}"


def _gate(ax: Axes, gate: GateStep, key: str) -> None:
    x = GATE_X[key]
    colour = COLOURS[key]
    symbol = "σ" if gate.activation == "sigmoid" else "tanh"
    text = (f"{LABELS[key]}\n{symbol}({compact(gate.weighted_sum)})\n= {fixed(gate.value)}")
    _box(ax, (x, BOX_Y), 2.4, 1.7, text, colour)
    # The weighted sum's parts on the path from the bus into the box.
    parts = (f"W·x {compact(gate.input_total)}\nW·h {compact(gate.memory_total)}\n"
             f"b {compact(gate.bias)}")
    _arrow(ax, (x, BUS_Y), (x, BOX_Y - 0.85), colour, parts, (x + 0.12, 2.35), "left",
           fontsize=8)


def _dense_formula(narration: StepNarration) -> str:
    dense = narration.dense
    assert dense is not None
    named = [t for t in dense.terms if t.source == "memory" and t.weight is not None]
    if narration.hidden_size == 1 and named and named[0].weight is not None:
        return f"{compact(named[0].weight)} × h + {compact(dense.bias)}"
    return f"Σ w·h + {parenthesised(dense.bias)}"


def _box(ax: Axes, centre: tuple[float, float], width: float, height: float, text: str,
         colour: str) -> None:
    x, y = centre
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0.05,rounding_size=0.2", facecolor="white",
                                edgecolor=colour, linewidth=2, zorder=2))
    ax.text(x, y, text, ha="center", va="center", fontsize=9, color="black", zorder=3)


def _node(ax: Axes, centre: tuple[float, float], symbol: str, colour: str,
          radius: float = 0.3, fontsize: int = 13) -> None:
    ax.add_patch(Circle(centre, radius, facecolor="white", edgecolor=colour, linewidth=2,
                        zorder=3))
    ax.text(*centre, symbol, ha="center", va="center", fontsize=fontsize, color=colour, zorder=4)


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], colour: str,
           label: str | None, label_xy: tuple[float, float] | None, align: str,
           fontsize: int = 9, shrink: float = 10) -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12,
                                 color=colour, linewidth=1.5, shrinkA=0, shrinkB=shrink,
                                 zorder=2))
    if label is not None and label_xy is not None:
        ax.text(*label_xy, label, ha=align, va="center", fontsize=fontsize, color=colour)
