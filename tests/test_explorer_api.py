"""The explorer's JSON API: every endpoint, its numbers against the engine, and bad input."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

pytest.importorskip("fastapi")

with warnings.catch_warnings():  # newer Starlette asks for httpx2 instead of httpx
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

from _explorer_model import tiny_model
from lstmlens.cell import GATE_ORDER
from lstmlens.explorer import create_app
from lstmlens.explorer.guard import LoopbackHostOnly, is_loopback
from lstmlens.explorer.server import page_url

SERIES = "AirPassengers"


@pytest.fixture(scope="module")
def model() -> Any:
    return tiny_model()


@pytest.fixture(scope="module")
def client(model: Any) -> Iterator[TestClient]:
    forecaster, panel = model
    with TestClient(create_app(forecaster, panel, max_upload_bytes=50_000)) as test_client:
        yield test_client


def assert_still_answers(client: TestClient) -> None:
    response = client.get("/api/model")
    assert response.status_code == 200
    assert response.json()["series_ids"]


# ------------------------------------------------------------------ good requests
def test_model_reports_sizes_series_and_labels(client: TestClient, model: Any) -> None:
    forecaster, _ = model
    body = client.get("/api/model").json()
    trace = forecaster.trace(SERIES)
    network = forecaster.network_
    assert body["series_ids"] == [str(i) for i in forecaster.ids_]
    assert body["model"]["hidden_size"] == network.hidden_size
    assert body["model"]["num_layers"] == network.num_layers
    assert body["model"]["input_size"] == network.input_size
    assert body["model"]["window"] == trace.network_trace.layers[0].steps
    assert body["model"]["horizon"] == len(trace.forecast)
    assert body["feature_names"] == list(trace.feature_names)
    assert len(body["step_labels"]) == body["model"]["window"]
    assert body["parameters"]["weight_ih_l0"] == list(network.parameters["weight_ih_l0"].shape)


def test_series_has_history_fitted_and_forecast_with_intervals(
    client: TestClient, model: Any
) -> None:
    forecaster, panel = model
    body = client.get(f"/api/series/{SERIES}").json()
    trace = forecaster.trace(SERIES)
    assert body["history"]["y"] == panel.series(SERIES).tolist()
    assert len(body["history"]["ds"]) == len(body["history"]["y"])
    assert body["fitted"]["y"] and len(body["fitted"]["ds"]) == len(body["fitted"]["y"])
    assert body["forecast"]["mean"] == pytest.approx(np.asarray(trace.forecast).tolist())
    levels = [interval["level"] for interval in body["forecast"]["intervals"]]
    assert levels == [95.0, 80.0]
    for interval in body["forecast"]["intervals"]:
        assert all(lo <= hi for lo, hi in zip(interval["lo"], interval["hi"], strict=True))
    assert len(body["window"]["step_labels"]) == len(trace.step_labels)
    assert np.allclose(body["window"]["inputs"], trace.inputs)


def test_trace_timelines_equal_the_engine_trace(client: TestClient, model: Any) -> None:
    forecaster, _ = model
    layer, unit = forecaster.network_.num_layers - 1, 1
    body = client.get(f"/api/trace/{SERIES}", params={"layer": layer, "unit": unit}).json()
    record = forecaster.trace(SERIES).network_trace.layers[layer]
    for gate in GATE_ORDER:
        assert body["gates"][gate] == getattr(record, gate)[0, :, unit].tolist()
    assert body["memories"]["long_term_memory"] == record.long_term_memory[0, :, unit].tolist()
    assert body["memories"]["short_term_memory"] == record.short_term_memory[0, :, unit].tolist()
    assert len(body["labels"]) == record.steps


@pytest.mark.parametrize(("layer", "unit", "step"), [(0, 0, 0), (-1, 2, 5), (-1, 3, -1)])
def test_step_numbers_equal_the_trace_step(
    client: TestClient, model: Any, layer: int, unit: int, step: int
) -> None:
    forecaster, _ = model
    network_trace = forecaster.trace(SERIES).network_trace
    layer = layer % len(network_trace.layers)
    step = step % network_trace.layers[0].steps
    body = client.get(
        f"/api/step/{SERIES}", params={"step": step, "layer": layer, "unit": unit}
    ).json()
    expected = network_trace.step(layer, step)
    hidden = network_trace.layers[layer].hidden_size
    for index, gate in enumerate(GATE_ORDER):
        row = index * hidden + unit
        shown = body["gates"][gate]
        assert shown["input_part"] == float(expected.input_part[0, row])
        assert shown["memory_part"] == float(expected.memory_part[0, row])
        assert shown["bias"] == float(expected.bias[row])
        assert shown["weighted_sum"] == float(expected.weighted_sum[0, row])
        assert shown["value"] == float(getattr(expected, gate)[0, unit])
        total = sum(term["product"] for term in shown["input_terms"])
        assert total == pytest.approx(shown["input_part"], abs=1e-5)
    assert body["previous_long_term_memory"] == float(expected.previous_long_term_memory[0, unit])
    assert body["kept_memory"] == float(expected.kept_memory[0, unit])
    assert body["added_memory"] == float(expected.added_memory[0, unit])
    assert body["long_term_memory"] == float(expected.long_term_memory[0, unit])
    assert body["short_term_memory"] == float(expected.short_term_memory[0, unit])
    assert [item["value"] for item in body["inputs"]] == expected.inputs[0].tolist()
    assert body["narration"]["text"] and "forget" in body["narration"]["text"].lower()
    last = layer == len(network_trace.layers) - 1 and step == network_trace.layers[0].steps - 1
    assert body["dense"]["reads_this_step"] is last
    assert (body["narration"]["dense"] is not None) is last


def test_static_page_is_served_with_a_strict_policy(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "lstmlens explorer" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    script = client.get("/static/app.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "http://" not in script.text and "https://" not in script.text
    for path in ("/static/nope.js", "/static/..%2F..%2Fapp.py", "/static/../app.py"):
        assert client.get(path).status_code == 404


# ------------------------------------------------------------------ bad requests
@pytest.mark.parametrize(
    ("path", "params", "status", "words"),
    [
        (f"/api/step/{SERIES}", {"step": "abc"}, 422, "step"),
        (f"/api/step/{SERIES}", {"step": 1.5}, 422, "step"),
        (f"/api/step/{SERIES}", {"step": -1}, 422, "step"),
        (f"/api/step/{SERIES}", {"step": 12}, 422, "step=12 is out of range"),
        (f"/api/step/{SERIES}", {}, 422, "step"),
        (f"/api/step/{SERIES}", {"step": 0, "unit": 4}, 422, "unit=4 is out of range"),
        (f"/api/step/{SERIES}", {"step": 0, "layer": 2}, 422, "layer=2 is out of range"),
        (f"/api/step/{SERIES}", {"step": 0, "layer": "top"}, 422, "layer"),
        (f"/api/trace/{SERIES}", {"unit": 99}, 422, "unit=99"),
        ("/api/trace/Nope", {}, 404, "unknown series 'Nope'"),
        ("/api/series/Nope", {}, 404, "unknown series"),
        ("/api/step/Nope", {"step": 0}, 404, "unknown series"),
        ("/api/nothing", {}, 404, "Not Found"),
    ],
)
def test_bad_queries_get_a_clear_4xx(
    client: TestClient, path: str, params: dict[str, Any], status: int, words: str
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == status
    detail = response.json()["detail"]
    assert isinstance(detail, str) and words in detail
    assert_still_answers(client)


# ------------------------------------------------------------------ what-if
def _engine_forecast(forecaster: Any, inputs: np.ndarray, network: Any) -> np.ndarray:
    trace = forecaster.trace(SERIES)
    output = network.forward(inputs[None], record_trace=True).output[0]
    return np.asarray(trace.to_original_units(output), dtype=np.float64).ravel()


def test_whatif_input_edit_matches_a_direct_engine_run(client: TestClient, model: Any) -> None:
    forecaster, _ = model
    before = {name: value.copy() for name, value in forecaster.network_.parameters.items()}
    trace = forecaster.trace(SERIES)
    steps = trace.network_trace.layers[0].steps
    edit = {"kind": "input", "step": steps - 1, "feature": 0, "value": 2.5}
    body = client.post(
        "/api/whatif",
        json={"series_id": SERIES, "layer": 0, "unit": 1, "step": steps - 1, "edits": [edit]},
    ).json()
    inputs = np.array(trace.inputs, copy=True)
    inputs[steps - 1, 0] = 2.5
    expected = _engine_forecast(forecaster, inputs, forecaster.network_)
    assert body["forecast"]["mean"] == pytest.approx(expected.tolist(), rel=1e-12)
    assert body["forecast"]["mean"] != pytest.approx(body["baseline"]["mean"])
    assert body["baseline"]["mean"] == pytest.approx(np.asarray(trace.forecast).tolist(), rel=1e-6)
    assert body["step"]["inputs"][0]["value"] == 2.5
    for name, value in forecaster.network_.parameters.items():  # the fitted model is untouched
        assert np.array_equal(value, before[name])


def test_whatif_weight_edit_matches_a_direct_engine_run(client: TestClient, model: Any) -> None:
    forecaster, _ = model
    network = forecaster.network_
    hidden = network.hidden_size
    row = 1 * hidden + 2  # the forget gate of unit 2
    edits = [
        {"kind": "weight", "name": "weight_hh_l0", "row": row, "col": 0, "value": -3.0},
        {"kind": "weight", "name": "head.bias", "row": 0, "value": 0.75},
    ]
    body = client.post(
        "/api/whatif", json={"series_id": SERIES, "layer": 0, "unit": 2, "step": 4, "edits": edits}
    ).json()
    edited = network.copy()
    edited.parameters["weight_hh_l0"][row, 0] = -3.0
    edited.parameters["head.bias"][0] = 0.75
    trace = forecaster.trace(SERIES)
    expected = _engine_forecast(forecaster, np.asarray(trace.inputs), edited)
    assert body["forecast"]["mean"] == pytest.approx(expected.tolist(), rel=1e-12)
    result = edited.forward(np.asarray(trace.inputs)[None], record_trace=True)
    assert result.trace is not None
    step = result.trace.step(0, 4)
    assert body["step"]["gates"]["forget_gate"]["value"] == float(step.forget_gate[0, 2])
    assert body["step"]["gates"]["forget_gate"]["memory_terms"][0]["weight"] == -3.0
    assert body["trace"]["memories"]["long_term_memory"] == (
        result.trace.layers[0].long_term_memory[0, :, 2].tolist()
    )


def test_whatif_without_edits_is_the_fitted_model(client: TestClient, model: Any) -> None:
    forecaster, _ = model
    body = client.post("/api/whatif", json={"series_id": SERIES, "step": 3}).json()
    assert body["forecast"]["mean"] == pytest.approx(body["baseline"]["mean"], rel=1e-12)
    step = client.get(f"/api/step/{SERIES}", params={"step": 3}).json()
    assert body["step"]["gates"] == step["gates"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"series_id": "Nope"}, "unknown series"),
        ({"series_id": SERIES, "step": 99}, "step=99"),
        ({"series_id": SERIES, "unit": "two"}, "unit"),
        ({"series_id": SERIES, "extra": 1}, "extra"),
        ({"series_id": SERIES, "edits": [{"kind": "input", "step": 99, "feature": 0,
                                          "value": 1}]}, "edits.step=99"),
        ({"series_id": SERIES, "edits": [{"kind": "input", "step": 0, "feature": 9,
                                          "value": 1}]}, "edits.feature=9"),
        ({"series_id": SERIES, "edits": [{"kind": "input", "step": 0, "feature": 0,
                                          "value": "abc"}]}, "value"),
        ({"series_id": SERIES, "edits": [{"kind": "input", "step": 0, "feature": 0,
                                          "value": 1e9}]}, "value"),
        ({"series_id": SERIES, "edits": [{"kind": "weight", "name": "weight_xx", "row": 0,
                                          "col": 0, "value": 1}]}, "not a parameter"),
        ({"series_id": SERIES, "edits": [{"kind": "weight", "name": "weight_ih_l0",
                                          "row": 999, "col": 0, "value": 1}]}, "edits.row=999"),
        ({"series_id": SERIES, "edits": [{"kind": "weight", "name": "weight_ih_l0",
                                          "row": 0, "col": 7, "value": 1}]}, "edits.col=7"),
        ({"series_id": SERIES, "edits": [{"kind": "weight", "name": "weight_ih_l0",
                                          "row": 0, "value": 1}]}, "edits.col is required"),
        ({"series_id": SERIES, "edits": [{"kind": "weight", "name": "head.bias", "row": 0,
                                          "col": 3, "value": 1}]}, "must be omitted"),
        ({"series_id": SERIES, "edits": [{"kind": "delete"}]}, "kind"),
        ({"series_id": SERIES, "edits": [{"kind": "input", "step": 0, "feature": 0,
                                          "value": 1}] * 65}, "edits"),
    ],
)
def test_bad_whatif_requests_get_a_clear_4xx(
    client: TestClient, body: dict[str, Any], words: str
) -> None:
    response = client.post("/api/whatif", json=body)
    assert 400 <= response.status_code < 500
    assert words in response.json()["detail"]
    assert_still_answers(client)


def test_whatif_refuses_nan_and_broken_json(client: TestClient) -> None:
    nan = '{"series_id": "AirPassengers", "edits": [{"kind": "input", "step": 0, ' \
          '"feature": 0, "value": NaN}]}'
    for text in (nan, "{not json", ""):
        response = client.post(
            "/api/whatif", content=text, headers={"content-type": "application/json"}
        )
        assert response.status_code == 422
        assert isinstance(response.json()["detail"], str)
    assert_still_answers(client)


def test_whatif_refuses_oversized_and_cross_site_bodies(client: TestClient) -> None:
    big = b'{"series_id": "' + b"x" * 70_000 + b'"}'
    response = client.post("/api/whatif", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]
    response = client.post(
        "/api/whatif", json={"series_id": SERIES}, headers={"origin": "http://evil.example"}
    )
    assert response.status_code == 403
    assert_still_answers(client)


# ------------------------------------------------------------------ upload
def _csv(series_id: str = "shop", n: int = 60) -> bytes:
    lines = ["unique_id,ds,y"]
    for t in range(n):
        stamp = f"{2000 + t // 12}-{t % 12 + 1:02d}-01"
        lines.append(f"{series_id},{stamp},{100 + 10 * np.sin(t / 2) + t:.3f}")
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty"),
        (b"\x89PNG\x00\x00binary", "not a text file"),
        (b"unique_id,ds,y\n\xff\xfe,1,2\n", "not UTF-8"),
        (b'a,b\n1,2\n3,"4\n', "not a readable CSV"),
        (b"unique_id,ds,y\nx,2000-01-01,abc\nx,2000-02-01,def\n", ""),
    ],
)
def test_malformed_uploads_get_a_clear_4xx(client: TestClient, content: bytes, words: str) -> None:
    response = client.post("/api/upload", content=content, headers={"content-type": "text/csv"})
    assert 400 <= response.status_code < 500
    assert words in response.json()["detail"]
    assert_still_answers(client)


def test_oversized_upload_is_refused_before_it_is_read(client: TestClient) -> None:
    big = _csv(n=3000)
    assert len(big) > 50_000
    response = client.post("/api/upload", content=big, headers={"content-type": "text/csv"})
    assert response.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while streaming
        for start in range(0, len(big), 4096):
            yield big[start : start + 4096]

    response = client.post("/api/upload", content=chunks(), headers={"content-type": "text/csv"})
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]
    assert_still_answers(client)


def test_a_second_upload_waits_for_the_first(model: Any) -> None:
    forecaster, panel = model
    app = create_app(forecaster, panel)
    with TestClient(app) as busy:
        app.state.explorer.fitting.acquire()  # as if another upload were being fitted
        try:
            response = busy.post("/api/upload", content=_csv(),
                                 headers={"content-type": "text/csv"})
        finally:
            app.state.explorer.fitting.release()
        assert response.status_code == 409 and "still being fitted" in response.json()["detail"]
        assert_still_answers(busy)


def test_series_ids_with_slashes_and_unicode_work(model: Any) -> None:
    forecaster, panel = model
    with TestClient(create_app(forecaster, panel)) as fresh:
        response = fresh.post("/api/upload", content=_csv("shop/α 1"),
                              headers={"content-type": "text/csv", "x-filename": "a.csv"})
        assert response.status_code == 200, response.text
        assert response.json()["series_ids"] == ["shop/α 1"]
        assert fresh.get("/api/series/shop%2F%CE%B1%201").json()["series_id"] == "shop/α 1"
        step = fresh.get("/api/step/shop%2F%CE%B1%201", params={"step": 0})
        assert step.status_code == 200 and step.json()["series_id"] == "shop/α 1"


def test_upload_fits_a_model_and_explores_it(model: Any) -> None:
    forecaster, panel = model
    with TestClient(create_app(forecaster, panel)) as fresh:
        response = fresh.post(
            "/api/upload", files={"file": ("../../shop.csv", _csv(), "text/csv")}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["series_ids"] == ["shop"]
        assert "shop.csv" in body["source"] and ".." not in body["source"]
        assert fresh.get("/api/series/shop").status_code == 200
        assert fresh.get("/api/step/shop", params={"step": 0}).status_code == 200
        assert fresh.get(f"/api/series/{SERIES}").status_code == 404
        response = fresh.post("/api/upload", files={"other": ("a.csv", b"1\n2\n", "text/csv")})
        assert response.status_code == 422 and "field 'file'" in response.json()["detail"]


# ------------------------------------------------------------------ server helpers
def test_loopback_detection_and_urls() -> None:
    for host in ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2", "app.localhost"):
        assert is_loopback(host)
    for host in ("0.0.0.0", "192.168.1.5", "example.com", "::"):
        assert not is_loopback(host)
    assert page_url("127.0.0.1", 8765) == "http://127.0.0.1:8765/"
    assert page_url("0.0.0.0", 80) == "http://127.0.0.1:80/"
    assert page_url("::1", 9000) == "http://[::1]:9000/"


def test_foreign_host_names_are_refused_on_loopback(model: Any) -> None:
    forecaster, panel = model
    guarded = LoopbackHostOnly(create_app(forecaster, panel))
    with TestClient(guarded, base_url="http://127.0.0.1:8765") as local:
        assert local.get("/api/model").status_code == 200
        response = local.get("/api/model", headers={"host": "rebind.example:8765"})
        assert response.status_code == 421
        assert "localhost" in response.json()["detail"]


def test_whatif_on_a_recursive_model_recomputes_the_next_value() -> None:
    from _explorer_model import TINY, air_panel
    from lstmlens.forecaster import LSTMForecaster

    settings = {**TINY, "num_layers": 1, "strategy": "recursive", "max_steps": 5}
    forecaster = LSTMForecaster(**settings).fit(air_panel())
    with TestClient(create_app(forecaster)) as recursive:
        body = recursive.post(
            "/api/whatif",
            json={"series_id": SERIES, "edits": [{"kind": "weight", "name": "head.bias",
                                                  "row": 0, "value": 0.5}]},
        ).json()
        assert body["complete"] is False
        assert len(body["forecast"]["mean"]) == 1 == len(body["forecast"]["ds"])
        series = recursive.get(f"/api/series/{SERIES}").json()
        assert len(series["forecast"]["mean"]) == TINY["horizon"]
        assert series["fitted"]["y"]  # the forecaster still has its training data
