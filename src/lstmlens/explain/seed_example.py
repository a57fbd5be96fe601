"""The seed article's worked example, run through the real engine and narrated.

"Thinking like LSTMs" feeds one unit the input x = 1 with short-term memory (hidden state)
h = 1 and long-term memory (cell state) c = 5, then a Dense layer with weight 2 and bias 1.
:func:`seed_walkthrough` runs exactly that through :class:`~lstmlens.network.LSTMNetwork`
with ``record_trace=True`` and narrates the recorded step, adding a note wherever the
article's rounded numbers drift from what the engine computed.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from lstmlens.explain._numbers import compact, fixed, parenthesised
from lstmlens.explain.narration import ArticleNote, StepNarration
from lstmlens.explain.walkthrough import narrate_trace
from lstmlens.network import LSTMNetwork, LSTMState
from lstmlens.seed import (
    ARTICLE_VALUES,
    SEED_INPUT,
    SEED_LONG_TERM_MEMORY,
    SEED_SHORT_TERM_MEMORY,
    seed_parameters,
)
from lstmlens.trace import NetworkTrace

TITLE = (
    "The seed's worked example, run through the lstmlens engine: one LSTM unit, one step, "
    f"input x = {compact(SEED_INPUT)}, short-term memory h = {compact(SEED_SHORT_TERM_MEMORY)}, "
    f"long-term memory c = {compact(SEED_LONG_TERM_MEMORY)}"
)


def seed_trace() -> tuple[LSTMNetwork, NetworkTrace]:
    """Run the seed's example (x = 1, h = 1, c = 5) through the engine in float64.

    Returns
    -------
    network : LSTMNetwork
        The one-unit network built from :func:`lstmlens.seed.seed_parameters`.
    trace : NetworkTrace
        Its trace of the single step.
    """
    network = LSTMNetwork(seed_parameters(np.float64))
    inputs = np.full((1, 1, 1), SEED_INPUT)  # (B, T, I) = one sequence, one step, one input
    state = LSTMState(np.full((1, 1, 1), SEED_SHORT_TERM_MEMORY),
                      np.full((1, 1, 1), SEED_LONG_TERM_MEMORY))  # (L, B, H)
    trace = network.forward(inputs, state, record_trace=True).trace
    assert trace is not None  # record_trace=True always records one
    return network, trace


def seed_walkthrough() -> StepNarration:
    """Narrate the seed's example with the engine's true values and the article's slips.

    Returns
    -------
    StepNarration
        Forget gate 0.998341 (keeps 4.991706 of 5), input gate 0.990048, potential memory
        tanh(0.75) = 0.635149, new long-term memory 5.620534, output gate 0.994176, new
        short-term memory 0.994150 and prediction 2.988301, with notes where the article
        prints 0.80, 0.69, 5.67, 0.98 and 2.96.
    """
    network, trace = seed_trace()
    narration = narrate_trace(trace, layer=0, time=0, unit=0, parameters=network.parameters)
    return replace(narration, title=TITLE, notes=article_notes(narration))


def article_notes(narration: StepNarration) -> tuple[ArticleNote, ...]:
    """Compare a narration of the seed's step with the numbers the article printed."""
    candidate = narration.gate("candidate_memory")
    lt, st, dense = narration.long_term, narration.short_term, narration.dense
    article = {key: value for key, (value, _) in ARTICLE_VALUES.items()}
    parts = " + ".join(parenthesised(term.product) for term in candidate.terms)
    # tanh of the article's own sum, to show its 0.69 is off even on its own terms.
    tanh_article_sum = math.tanh(article["candidate_sum"])
    notes = [
        ArticleNote("candidate_memory", "candidate_sum", article["candidate_sum"],
                    candidate.weighted_sum,
                    f"the article writes this sum as {compact(article['candidate_sum'])}; "
                    f"it is {parts} = {compact(candidate.weighted_sum)}."),
        ArticleNote("candidate_memory", "candidate_memory", article["candidate_memory"],
                    candidate.value,
                    f"the article says tanh gives about {compact(article['candidate_memory'])}; "
                    f"tanh({compact(candidate.weighted_sum)}) = {fixed(candidate.value)}, and "
                    f"even its own sum gives tanh({compact(article['candidate_sum'])}) = "
                    f"{fixed(tanh_article_sum)}, not {compact(article['candidate_memory'])}."),
        ArticleNote("long_term", "long_term_memory", article["long_term_memory"], lt.value,
                    f"the article reaches {compact(article['long_term_memory'])} "
                    f"from its potential memory {compact(article['candidate_memory'])}; with "
                    f"the true {fixed(lt.candidate_memory)} the new long-term memory is "
                    f"{fixed(lt.value)}."),
        ArticleNote("short_term", "short_term_memory", article["short_term_memory"], st.value,
                    f"the article rounds both factors to two decimals before multiplying and gets "
                    f"{compact(article['short_term_memory'])}; the true short-term memory is "
                    f"{fixed(st.output_gate)} × {fixed(st.squashed_memory)} = "
                    f"{fixed(st.value)}."),
    ]
    if dense is not None:
        notes.append(ArticleNote(
            "dense", "prediction", article["prediction"], dense.value,
            f"the article predicts {compact(article['prediction'])} from its short-term memory "
            f"{compact(article['short_term_memory'])}; from the true {fixed(st.value)} the "
            f"prediction is {fixed(dense.value)}."))
    return tuple(notes)
