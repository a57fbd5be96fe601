"""Model files: round trip, atomic writes and every way a file can be wrong."""

from __future__ import annotations

import importlib.metadata
import json
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import safetensors.numpy
from numpy.typing import NDArray

from lstmlens import io as model_io
from lstmlens.io import (
    FORMAT_VERSION,
    ModelFileError,
    load_model_file,
    save_model_file,
    validate_tensors,
)

TENSORS: dict[str, NDArray[Any]] = {
    "lstm.0.weight_ih": np.arange(8, dtype=np.float32).reshape(4, 2),
    "dense.bias": np.array([0.5], dtype=np.float64),
    "steps": np.array([1, 2, 3], dtype=np.int64),
}
METADATA = {"hidden_size": 1, "horizon": 12, "ids": ["a", "b"], "nested": {"x": 1.5}}


def _saved(tmp_path: Path) -> Path:
    return save_model_file(tmp_path / "model.lstmlens", TENSORS, METADATA)


def _header(data: bytes) -> dict[str, object]:
    """Independent reading of the safetensors header: u64 length then JSON."""
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    assert isinstance(header, dict)
    return header


def test_round_trip(tmp_path: Path) -> None:
    tensors, metadata = load_model_file(_saved(tmp_path))
    assert set(tensors) == set(TENSORS)
    for name, array in TENSORS.items():
        assert tensors[name].dtype == array.dtype
        np.testing.assert_array_equal(tensors[name], array)
    assert {k: metadata[k] for k in METADATA} == METADATA
    assert metadata["format"] == "lstmlens-model"
    assert metadata["format_version"] == 1
    assert isinstance(metadata["library_version"], str)


def test_file_is_plain_safetensors_with_one_metadata_key(tmp_path: Path) -> None:
    data = _saved(tmp_path).read_bytes()
    stored = _header(data)["__metadata__"]
    assert isinstance(stored, dict)
    assert list(stored) == ["lstmlens"]
    assert json.loads(stored["lstmlens"])["hidden_size"] == 1
    np.testing.assert_array_equal(safetensors.numpy.load(data)["steps"], [1, 2, 3])


def test_reserved_keys_are_written_by_the_library(tmp_path: Path) -> None:
    path = save_model_file(tmp_path / "m.lstmlens", TENSORS, {"format_version": 99})
    assert load_model_file(path)[1]["format_version"] == FORMAT_VERSION


def test_library_version_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_installed(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    assert model_io.library_version() == "0+unknown"


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    before = path.read_bytes()
    with pytest.raises(ModelFileError, match=r"already exists; pass overwrite=True \(or --force"):
        save_model_file(path, {"other": np.zeros(2)}, {})
    assert path.read_bytes() == before
    save_model_file(path, {"other": np.zeros(2)}, {}, overwrite=True)
    assert set(load_model_file(path)[0]) == {"other"}


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="does not exist; create it first"):
        save_model_file(tmp_path / "nowhere" / "m.lstmlens", TENSORS, {})


@pytest.mark.parametrize("where", ["fsync", "replace"])
def test_failed_write_leaves_old_file_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    path = _saved(tmp_path)
    before = path.read_bytes()

    def fail(*args: object) -> None:
        raise OSError("simulated disk failure")

    monkeypatch.setattr(os, where, fail)
    with pytest.raises(OSError, match="simulated disk failure"):
        save_model_file(path, {"new": np.ones(1000)}, {"v": 2}, overwrite=True)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.lstmlens"]


def test_metadata_must_be_json(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="metadata is not JSON-serialisable"):
        save_model_file(tmp_path / "m.lstmlens", TENSORS, {"levels": {80, 95}})
    with pytest.raises(ModelFileError, match="metadata is not JSON-serialisable"):
        save_model_file(tmp_path / "m.lstmlens", TENSORS, {"loss": float("nan")})
    assert not list(tmp_path.iterdir())


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match=r"model file .*absent.lstmlens not found"):
        load_model_file(tmp_path / "absent.lstmlens")


def test_not_a_safetensors_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.lstmlens"
    path.write_text("unique_id,ds,y\na,2020-01-01,1\n")
    with pytest.raises(ModelFileError, match="notes.lstmlens is not a valid lstmlens model file"):
        load_model_file(path)


@pytest.mark.parametrize("keep", [0, 5, 20, -1])
def test_truncated_file(tmp_path: Path, keep: int) -> None:
    path = _saved(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:keep])
    with pytest.raises(ModelFileError, match="model.lstmlens"):
        load_model_file(path)


@pytest.mark.parametrize("offset", [3, 7, 12, 40])
def test_flipped_header_bytes(tmp_path: Path, offset: int) -> None:
    path = _saved(tmp_path)
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="model.lstmlens .*(corrupt|damaged)"):
        load_model_file(path)


def test_foreign_safetensors_file(tmp_path: Path) -> None:
    path = tmp_path / "weights.safetensors"
    safetensors.numpy.save_file({"w": np.zeros(3)}, str(path), metadata={"format": "pt"})
    with pytest.raises(ModelFileError, match="is a safetensors file but not an lstmlens model"):
        load_model_file(path)
    safetensors.numpy.save_file({"w": np.zeros(3)}, str(path))
    with pytest.raises(ModelFileError, match="not an lstmlens model"):
        load_model_file(path)


def _write_raw(path: Path, text: str) -> Path:
    safetensors.numpy.save_file({"w": np.zeros(1)}, str(path), metadata={"lstmlens": text})
    return path


def test_newer_format_version(tmp_path: Path) -> None:
    text = json.dumps({"format": "lstmlens-model", "format_version": 2, "library_version": "9.0"})
    path = _write_raw(tmp_path / "new.lstmlens", text)
    with pytest.raises(
        ModelFileError,
        match=r"format_version 2, written by lstmlens 9.0.*reads up to format_version 1\. "
        "Upgrade lstmlens",
    ):
        load_model_file(path)


def test_bad_metadata_json(tmp_path: Path) -> None:
    path = _write_raw(tmp_path / "bad.lstmlens", '{"format": "lstmlens-model", ')
    with pytest.raises(ModelFileError, match="damaged lstmlens metadata \\(not valid JSON"):
        load_model_file(path)


def test_wrong_format_name(tmp_path: Path) -> None:
    path = _write_raw(tmp_path / "odd.lstmlens", json.dumps({"format": "something-else"}))
    with pytest.raises(ModelFileError, match="format 'something-else', expected 'lstmlens-model'"):
        load_model_file(path)


def test_invalid_format_version(tmp_path: Path) -> None:
    text = json.dumps({"format": "lstmlens-model", "format_version": "one"})
    path = _write_raw(tmp_path / "odd.lstmlens", text)
    with pytest.raises(ModelFileError, match="invalid format_version 'one'"):
        load_model_file(path)


def test_validate_tensors_lists_every_problem() -> None:
    expected = {
        "lstm.0.weight_ih": ((4, 2), "float32"),
        "dense.bias": ((2,), "float64"),
        "dense.weight": ((1, 4), "float64"),
    }
    with pytest.raises(ModelFileError) as caught:
        validate_tensors(TENSORS, expected, source="m.lstmlens")
    message = str(caught.value)
    assert "m.lstmlens" in message
    assert "missing tensors: dense.weight" in message
    assert "unexpected tensors: steps" in message
    assert "dense.bias is float64[1], expected float64[2]" in message
    assert "lstm.0.weight_ih" not in message


def test_validate_tensors_checks_dtype_and_accepts_a_match() -> None:
    with pytest.raises(ModelFileError, match="steps is int64\\[3\\], expected int32\\[3\\]"):
        validate_tensors({"steps": TENSORS["steps"]}, {"steps": ((3,), np.int32)})
    validate_tensors(TENSORS, {name: (a.shape, a.dtype) for name, a in TENSORS.items()})  # no error


def test_non_contiguous_tensors_are_saved(tmp_path: Path) -> None:
    matrix = np.arange(12.0).reshape(3, 4)
    path = save_model_file(tmp_path / "t.lstmlens", {"t": matrix.T}, {})
    np.testing.assert_array_equal(load_model_file(path)[0]["t"], matrix.T)


def test_accepts_os_pathlike_and_str(tmp_path: Path) -> None:
    path = save_model_file(os.fspath(tmp_path / "s.lstmlens"), TENSORS, {})
    assert isinstance(path, Path)
    assert set(load_model_file(str(path))[0]) == set(TENSORS)
