"""The walk-through reports the trace's numbers: checked through the JSON and the text."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

from lstmlens.explain import narrate_step, narrate_trace, seed_walkthrough
from lstmlens.explain.narration import StepNarration
from lstmlens.explain.seed_example import seed_trace
from lstmlens.network import LSTMNetwork
from lstmlens.seed import ARTICLE_VALUES
from lstmlens.trace import NetworkTrace

NUMBER = re.compile(r"-?\d+\.\d+")
GATE_INDEX = {"input_gate": 0, "forget_gate": 1, "candidate_memory": 2, "output_gate": 3}


def _close(text: str, value: float) -> bool:
    """True if ``text`` is ``value`` printed to its number of decimals."""
    decimals = len(text.split(".")[1])
    return abs(float(text) - value) <= 0.5 * 10.0**-decimals + 1e-12


def _small_network(dtype: type[np.floating] = np.float64) -> tuple[LSTMNetwork, NetworkTrace]:
    network = LSTMNetwork.initialize(5, 4, num_layers=2, output_size=3, dtype=dtype,
                                     random_state=3)
    inputs = np.random.default_rng(4).normal(size=(2, 6, 5)).astype(dtype)
    trace = network.forward(inputs, record_trace=True).trace
    assert trace is not None
    return network, trace


def _trace_values(trace: NetworkTrace, network: LSTMNetwork, layer: int, time: int, row: int,
                  unit: int) -> list[float]:
    """Every quantity a narration of this step may print, straight from trace and weights."""
    step = trace.step(layer, time, row)
    hidden = trace.layers[layer].hidden_size
    columns = [k * hidden + unit for k in range(4)]
    values: list[float] = []
    for array in (step.inputs, step.previous_short_term_memory, step.previous_long_term_memory,
                  step.long_term_memory, step.short_term_memory, step.kept_memory,
                  step.added_memory, np.abs(step.added_memory),  # "removes |i_t g_t|"
                  np.tanh(step.long_term_memory), trace.output[row],
                  trace.head_weight, trace.head_bias, trace.head_contributions[row]):
        values += np.asarray(array, dtype=np.float64).ravel().tolist()
    for name in (f"weight_ih_l{layer}", f"weight_hh_l{layer}"):
        weight = network.parameters[name][columns].astype(np.float64)
        source = step.inputs if name.startswith("weight_ih") else step.previous_short_term_memory
        values += weight.ravel().tolist() + (weight * source[0]).ravel().tolist()
    for array in (step.input_part, step.memory_part, step.weighted_sum):
        values += np.asarray(array[0, columns], dtype=np.float64).tolist()
    values += np.asarray(step.bias[columns], dtype=np.float64).tolist()
    for key in GATE_INDEX:
        gate = float(getattr(step, key)[0, unit])
        values += [gate, 100.0 * gate]
    return values


def _assert_every_number_is_explained(text: str, allowed: list[float]) -> int:
    numbers = NUMBER.findall(text)
    for number in numbers:
        assert any(_close(number, value) for value in allowed), (number, text)
    return len(numbers)


def _json_strings(node: object) -> list[str]:
    """Every string inside a parsed JSON document (titles, meanings, notes, labels)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [text for value in node.values() for text in _json_strings(value)]
    if isinstance(node, list):
        return [text for value in node for text in _json_strings(value)]
    return []


def _assert_json_matches_trace(narration: StepNarration, trace: NetworkTrace, layer: int,
                               time: int, row: int, unit: int) -> None:
    data = json.loads(narration.to_json())
    step = trace.step(layer, time, row)
    hidden = trace.layers[layer].hidden_size
    for gate in data["gates"]:
        column = GATE_INDEX[gate["key"]] * hidden + unit
        assert gate["value"] == float(getattr(step, gate["key"])[0, unit])
        assert gate["weighted_sum"] == float(step.weighted_sum[0, column])
        assert gate["input_total"] == float(step.input_part[0, column])
        assert gate["memory_total"] == float(step.memory_part[0, column])
        assert gate["bias"] == float(step.bias[column])
        parts = sum(term["product"] for term in gate["terms"])
        assert parts == pytest.approx(gate["weighted_sum"], abs=1e-5)
    lt, st = data["long_term"], data["short_term"]
    assert lt["previous"] == float(step.previous_long_term_memory[0, unit])
    assert lt["kept"] == float(step.kept_memory[0, unit])
    assert lt["added"] == float(step.added_memory[0, unit])
    assert lt["value"] == float(step.long_term_memory[0, unit])
    assert st["value"] == float(step.short_term_memory[0, unit])
    assert st["output_gate"] * st["squashed_memory"] == pytest.approx(st["value"], abs=1e-6)


def test_seed_walkthrough_reports_the_engines_true_values() -> None:
    narration = seed_walkthrough()
    _, trace = seed_trace()
    _assert_json_matches_trace(narration, trace, 0, 0, 0, 0)
    data = narration.to_dict()
    assert data["dense"]["value"] == float(trace.output[0, 0])
    assert data["dense"]["value"] == pytest.approx(2.988301, abs=5e-7)
    text = narration.to_text()
    for true_value in ("0.75", "0.998341", "4.991706", "0.990048", "0.635149", "5.620534",
                       "0.994176", "0.994150", "2.988301"):
        assert true_value in text
    assert "f_t = sigmoid(6.40) = 0.998341" in text
    assert "keeps 99.8% of the long-term memory: 5.00 → 4.991706" in text
    assert "sum: 0.45 + 0.35 + (-0.05) = 0.75" in text
    assert "= 4.991706 + 0.628828 = 5.620534" in text


def test_seed_walkthrough_points_out_every_article_slip() -> None:
    narration = seed_walkthrough()
    notes = {note.quantity: note for note in narration.notes}
    assert set(notes) == set(ARTICLE_VALUES)
    for quantity, (article_value, _) in ARTICLE_VALUES.items():
        assert notes[quantity].article_value == article_value
        assert notes[quantity].true_value != pytest.approx(article_value, abs=5e-3)
    assert notes["candidate_sum"].true_value == pytest.approx(0.75)
    assert notes["candidate_memory"].true_value == pytest.approx(0.635149, abs=5e-7)
    text = narration.to_text()
    assert "tanh(0.80) = 0.664037, not 0.69" in text
    for slip in ("0.80", "0.69", "5.67", "0.98", "2.96"):
        assert slip in text


def test_every_number_in_the_seed_text_and_markdown_is_a_trace_or_article_value() -> None:
    network, trace = seed_trace()
    allowed = _trace_values(trace, network, 0, 0, 0, 0)
    allowed += [value for value, _ in ARTICLE_VALUES.values()]
    allowed += [math.tanh(ARTICLE_VALUES["candidate_sum"][0]), 5.0, 1.0]
    narration = seed_walkthrough()
    assert _assert_every_number_is_explained(narration.to_text(), allowed) > 40
    assert _assert_every_number_is_explained(narration.to_markdown(), allowed) > 40
    strings = "\n".join(_json_strings(json.loads(narration.to_json())))
    assert _assert_every_number_is_explained(strings, allowed) > 15


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("layer", "time", "row", "unit"), [(1, -1, 1, 2), (0, 2, 0, 1)])
def test_narration_of_a_bigger_network_reads_the_trace(dtype: type[np.floating], layer: int,
                                                       time: int, row: int, unit: int) -> None:
    network, trace = _small_network(dtype)
    narration = narrate_trace(trace, layer=layer, time=time, row=row, unit=unit, top_k=2,
                              parameters=network.parameters)
    time = time % trace.layers[layer].steps
    _assert_json_matches_trace(narration, trace, layer, time, row, unit)
    allowed = _trace_values(trace, network, layer, time, row, unit)
    # Remainders of grouped terms: the trace's total minus the named products.
    allowed += [term.product for gate in narration.gates for term in gate.terms]
    if narration.dense is not None:
        allowed += [term.product for term in narration.dense.terms]
    _assert_every_number_is_explained(narration.to_text(), allowed)
    _assert_every_number_is_explained("\n".join(_json_strings(narration.to_dict())), allowed)
    text = narration.to_text()
    for gate in narration.gates:
        match = re.search(rf"{gate.symbol} = {gate.activation}\((\S+)\) = (\S+)", text)
        assert match is not None
        assert _close(match.group(1), gate.weighted_sum)
        assert _close(match.group(2), gate.value)
    assert (narration.dense is not None) == (layer == 1 and time == 5)


def test_many_inputs_are_grouped_and_the_largest_named() -> None:
    network, trace = _small_network()
    narration = narrate_trace(trace, layer=0, time=3, unit=0, top_k=2,
                              parameters=network.parameters)
    step = trace.step(0, 3)
    forget = narration.gate("forget_gate")
    named = [t for t in forget.terms if t.source == "input" and t.count == 1]
    rest = [t for t in forget.terms if t.source == "input" and t.count > 1]
    assert len(named) == 2 and rest[0].count == 3
    products = np.abs(network.parameters["weight_ih_l0"][4] * step.inputs[0])
    assert sorted(abs(t.product) for t in named) == pytest.approx(sorted(products)[-2:])
    assert sum(t.product for t in [*named, *rest]) == pytest.approx(forget.input_total)
    assert "3 other inputs" in narration.to_text()


def test_without_weights_the_sums_are_shown_by_source() -> None:
    _, trace = _small_network()
    narration = narrate_step(trace.step(0, 0), unit=1, feature_names=list("abcde"))
    gate = narration.gate("output_gate")
    assert [t.label for t in gate.terms] == ["weighted inputs", "weighted short-term memories",
                                             "bias"]
    assert narration.dense is None


def test_renderers_agree_and_html_is_escaped() -> None:
    narration = seed_walkthrough()
    html = narration._repr_html_()
    assert html.startswith('<section class="lstmlens-narration">')
    assert "<script" not in html and "5.620534" in html
    assert narration.to_markdown().count("### ") == 7
    assert str(narration) == narration.to_text()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"unit": 4}, "unit=4 is out of range"), ({"time": 6}, "step=6 is out of range"),
     ({"layer": 2}, "layer=2 is out of range"), ({"output": 3}, "output=3 is out of range")],
)
def test_bad_choices_raise_clear_value_errors(kwargs: dict[str, int], message: str) -> None:
    _, trace = _small_network()
    with pytest.raises(ValueError, match=message):
        narrate_trace(trace, **kwargs)
