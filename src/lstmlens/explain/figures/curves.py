"""The activation curves with a step's operating points, and the attribution picture.

:func:`activation_curves` draws the sigmoid ("percentage") and tanh ("new value") functions
the seed introduces, and marks where this step's forget gate (f_t), input gate (i_t),
output gate (o_t), potential memory (g_t) and squashed long-term memory tanh(c_t) sit on
them. :func:`attribution_figure` draws gradient x input over the input window.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from lstmlens.explain._numbers import compact, fixed
from lstmlens.explain.attribution import Attribution
from lstmlens.explain.figures._base import COLOURS, new_figure
from lstmlens.explain.narration import StepNarration


def activation_curves(narration: StepNarration, *, width: float = 11.0,
                      height: float = 4.2) -> Figure:
    """Sigmoid and tanh curves with the step's gates marked at (weighted sum, value).

    Parameters
    ----------
    narration : StepNarration
        The step to mark.
    width, height : float
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = new_figure(width, height)
    grid = fig.add_gridspec(1, 2, left=0.07, right=0.98, top=0.86, bottom=0.14, wspace=0.2)
    sig_ax, tanh_ax = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
    fig.suptitle(narration.title, fontsize=10)
    sums = [gate.weighted_sum for gate in narration.gates]
    c_t = narration.short_term.long_term_memory
    reach = max(6.0, *(abs(z) * 1.1 for z in [*sums, c_t]))
    z = np.linspace(-reach, reach, 400)
    # The curves themselves, for reference; the marked points are the trace's values.
    sig_ax.plot(z, 0.5 * (1.0 + np.tanh(0.5 * z)), color="#888888", linewidth=1.5)
    tanh_ax.plot(z, np.tanh(z), color="#888888", linewidth=1.5)
    sig_ax.set_title("sigmoid: a percentage between 0 and 1", fontsize=10)
    tanh_ax.set_title("tanh: a new value between -1 and 1", fontsize=10)
    for gate in narration.gates:
        ax = sig_ax if gate.activation == "sigmoid" else tanh_ax
        ax.plot([gate.weighted_sum], [gate.value], "o", color=COLOURS[gate.key], markersize=8,
                label=f"{gate.symbol} = {gate.activation}({compact(gate.weighted_sum)}) = "
                      f"{fixed(gate.value)}")
    st = narration.short_term
    tanh_ax.plot([c_t], [st.squashed_memory], "s", color=COLOURS["long_term_memory"],
                 markersize=8, label=f"tanh(c_t) = tanh({fixed(c_t)}) = "
                                     f"{fixed(st.squashed_memory)}")
    for ax in (sig_ax, tanh_ax):
        ax.axhline(0.0, color="#cccccc", linewidth=0.8)
        ax.axvline(0.0, color="#cccccc", linewidth=0.8)
        ax.set_xlabel("weighted sum (weights × inputs + bias)", fontsize=9)
        ax.legend(loc="upper left", fontsize=8)
    return fig


def attribution_figure(attribution: Attribution, *, width: float = 11.0,
                       height: float = 5.0, max_labels: int = 24) -> Figure:
    """Heat map of gradient x input (steps x features) and its total per step as bars.

    Parameters
    ----------
    attribution : Attribution
        From :func:`~lstmlens.explain.attribution.input_attributions`.
    width, height : float
        Figure size in inches.
    max_labels : int
        At most this many tick labels per axis.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = new_figure(width, height)
    grid = fig.add_gridspec(1, 3, width_ratios=(3.0, 0.12, 1.6), left=0.12, right=0.97,
                            top=0.86, bottom=0.16, wspace=0.35)
    heat_ax, bar_colour_ax, bar_ax = (fig.add_subplot(grid[k]) for k in range(3))
    values = np.asarray(attribution.values, dtype=np.float64)  # (T, I)
    bound = float(np.abs(values).max()) or 1.0
    image = heat_ax.imshow(values, aspect="auto", cmap="RdBu_r", vmin=-bound, vmax=bound,
                           interpolation="nearest")
    fig.colorbar(image, cax=bar_colour_ax)
    steps, features = values.shape
    y_ticks = _ticks(steps, max_labels)
    heat_ax.set_yticks(y_ticks)
    heat_ax.set_yticklabels([attribution.step_labels[t] for t in y_ticks], fontsize=8)
    x_ticks = _ticks(features, max_labels)
    heat_ax.set_xticks(x_ticks)
    heat_ax.set_xticklabels([attribution.feature_names[j] for j in x_ticks], fontsize=8,
                            rotation=90 if features > 6 else 0)
    heat_ax.set_xlabel("input feature", fontsize=9)
    heat_ax.set_ylabel("step of the input window", fontsize=9)
    per_step = attribution.by_step()
    colours = [COLOURS["forecast"] if v >= 0 else COLOURS["forget_gate"] for v in per_step]
    bar_ax.barh(np.arange(steps), per_step, color=colours)
    bar_ax.set_ylim(steps - 0.5, -0.5)
    bar_ax.set_yticks(y_ticks)
    bar_ax.set_yticklabels([])
    bar_ax.axvline(0.0, color="#888888", linewidth=0.8)
    bar_ax.set_xlabel("total per step", fontsize=9)
    target = ("the sum of all outputs" if attribution.output is None
              else f"output {attribution.output}")
    fig.suptitle(f"Which inputs moved {target} (gradient × input; prediction "
                 f"{fixed(attribution.prediction)})", fontsize=10)
    return fig


def _ticks(count: int, limit: int) -> list[int]:
    if count <= limit:
        return list(range(count))
    return sorted({int(round(k)) for k in np.linspace(0, count - 1, limit)})
