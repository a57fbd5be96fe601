"""The seed text's worked example, as data.

"Thinking like LSTMs: A Human's Guide to Machine Memory" walks one LSTM unit through one
step with input x = 1, short-term memory h = 1 and long-term memory c = 5, then a Dense
layer with weight 2 and bias 1. This module holds those weights in PyTorch's layout so the
real engine can run them, the values the article printed (rounded, with two slips), and
nothing else: the narration lives in :mod:`lstmlens.explain`.
"""

from __future__ import annotations

import numpy as np

from lstmlens.cell import FloatArray

#: Input x_t, previous short-term memory h_{t-1}, previous long-term memory c_{t-1}.
SEED_INPUT = 1.0
SEED_SHORT_TERM_MEMORY = 1.0
SEED_LONG_TERM_MEMORY = 5.0

#: Per gate: (weight on the input, weight on the short-term memory, bias).
SEED_GATE_WEIGHTS: dict[str, tuple[float, float, float]] = {
    "input_gate": (2.30, 1.85, 0.45),
    "forget_gate": (1.75, 3.25, 1.40),
    "candidate_memory": (0.45, 0.35, -0.05),
    "output_gate": (-0.03, 4.67, 0.50),
}

#: The Dense layer that turns the short-term memory into the prediction.
SEED_DENSE_WEIGHT = 2.0
SEED_DENSE_BIAS = 1.0

#: What the article printed where it differs from the exact arithmetic.
#: Keys name the quantity; values are (article's number, what the article said about it).
ARTICLE_VALUES: dict[str, tuple[float, str]] = {
    "candidate_sum": (0.80, "(1 x 0.45) + (1 x 0.35) + (-0.05) = 0.80"),
    "candidate_memory": (0.69, "the tanh function gives about 0.69"),
    "long_term_memory": (5.67, "4.99 + 0.68 = 5.67"),
    "short_term_memory": (0.98, "0.99 x 0.99 = 0.98"),
    "prediction": (2.96, "multiply it by 2 (the weight), add 1 (the bias), and predict 2.96"),
}


def seed_parameters(dtype: type[np.floating] = np.float64) -> dict[str, FloatArray]:
    """Return the seed's one-unit LSTM and Dense head in PyTorch's parameter layout.

    The article has one bias per gate; it goes in ``bias_ih_l0`` and ``bias_hh_l0`` is 0.

    Parameters
    ----------
    dtype : numpy floating type
        Precision of the returned arrays.

    Returns
    -------
    dict
        ``weight_ih_l0`` (4, 1), ``weight_hh_l0`` (4, 1), ``bias_ih_l0`` (4,),
        ``bias_hh_l0`` (4,), ``head.weight`` (1, 1) and ``head.bias`` (1,), gates ordered
        input, forget, candidate, output as in ``torch.nn.LSTM``.
    """
    rows = [SEED_GATE_WEIGHTS[name] for name in ("input_gate", "forget_gate",
                                                  "candidate_memory", "output_gate")]
    table = np.array(rows, dtype=dtype)  # (4 gates, [w_x, w_h, bias])
    return {
        "weight_ih_l0": table[:, 0:1].copy(),
        "weight_hh_l0": table[:, 1:2].copy(),
        "bias_ih_l0": table[:, 2].copy(),
        "bias_hh_l0": np.zeros(4, dtype=dtype),
        "head.weight": np.array([[SEED_DENSE_WEIGHT]], dtype=dtype),
        "head.bias": np.array([SEED_DENSE_BIAS], dtype=dtype),
    }
