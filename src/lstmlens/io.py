"""Safe model files: one safetensors file that carries tensors and JSON metadata.

A ``.lstmlens`` file is a plain `safetensors <https://huggingface.co/docs/safetensors>`_
file. Its header's ``__metadata__`` holds a single key, ``"lstmlens"``, whose value is a JSON
string with the model's settings plus three keys written here::

    {"format": "lstmlens-model", "format_version": 1, "library_version": "0.1.0", ...}

Nothing is unpickled, so loading a file from an untrusted source cannot run code. Writes are
atomic: the bytes go to a temporary file in the same directory, are flushed to disk, and
replace the target in one ``os.replace``; a failure leaves any previous file untouched.
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
import tempfile
from collections.abc import Mapping
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np
import safetensors.numpy
from numpy.typing import DTypeLike, NDArray

FORMAT_NAME = "lstmlens-model"
FORMAT_VERSION = 1
METADATA_KEY = "lstmlens"
_RESERVED_KEYS = ("format", "format_version", "library_version")

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "ModelFileError",
    "library_version",
    "load_model_file",
    "save_model_file",
    "validate_tensors",
]


class ModelFileError(ValueError):
    """A model file is missing, damaged, foreign, too new, or would be overwritten."""


def library_version() -> str:
    """Installed lstmlens version, or ``"0+unknown"`` when running from an uninstalled tree."""
    try:
        return importlib_metadata.version("lstmlens")
    except importlib_metadata.PackageNotFoundError:
        return "0+unknown"


# --- saving -----------------------------------------------------------------------------------


def save_model_file(
    path: str | os.PathLike[str],
    tensors: Mapping[str, NDArray[Any]],
    metadata: Mapping[str, Any],
    *,
    overwrite: bool = False,
) -> Path:
    """Write tensors and metadata to one model file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Target file, conventionally ending in ``.lstmlens``. Its directory must exist.
    tensors : mapping of str to numpy.ndarray
        Named arrays (any shape; numeric or boolean dtypes).
    metadata : mapping
        JSON-serialisable settings. The keys ``format``, ``format_version`` and
        ``library_version`` are set by this function; values given for them are replaced.
    overwrite : bool, default False
        Replace an existing file. Without it an existing file is an error.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ModelFileError
        If the file exists and ``overwrite`` is False, the metadata is not JSON, or a tensor
        cannot be stored.
    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise ModelFileError(
            f"{target} already exists; pass overwrite=True (or --force on the command line) "
            "to replace it, or choose another path."
        )
    if not target.parent.is_dir():
        raise ModelFileError(
            f"cannot save to {target}: the directory {target.parent} does not exist; "
            "create it first."
        )
    payload = _serialise(tensors, metadata, target)
    _atomic_write(target, payload)
    return target


def _serialise(
    tensors: Mapping[str, NDArray[Any]], metadata: Mapping[str, Any], target: Path
) -> bytes:
    """Encode tensors and the metadata JSON as safetensors bytes."""
    header = {
        **metadata,
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "library_version": library_version(),
    }
    try:
        text = json.dumps(header, allow_nan=False, sort_keys=True)
    except (TypeError, ValueError) as error:
        raise ModelFileError(
            f"cannot save {target}: metadata is not JSON-serialisable ({error}); "
            "store only str, int, float (finite), bool, None, lists and dicts."
        ) from error
    arrays: dict[str, NDArray[Any]] = {}
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise ModelFileError(f"cannot save {target}: tensor name {name!r} is not a string.")
        arrays[name] = np.ascontiguousarray(value)
    try:
        return bytes(safetensors.numpy.save(arrays, metadata={METADATA_KEY: text}))
    except Exception as error:  # safetensors raises its own error types
        raise ModelFileError(f"cannot save {target}: {error}") from error


def _atomic_write(target: Path, payload: bytes) -> None:
    """Write ``payload`` to a temp file next to ``target``, fsync, then ``os.replace``."""
    handle, temp_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    _fsync_directory(target.parent)


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable where the platform allows it (not on Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- loading ----------------------------------------------------------------------------------


def load_model_file(path: str | os.PathLike[str]) -> tuple[dict[str, NDArray[Any]], dict[str, Any]]:
    """Read a model file written by :func:`save_model_file`.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.lstmlens`` file.

    Returns
    -------
    tensors : dict of str to numpy.ndarray
    metadata : dict
        The stored settings, including ``format``, ``format_version`` and
        ``library_version``.

    Raises
    ------
    ModelFileError
        If the file is missing, not a safetensors file, truncated or corrupt, a safetensors
        file without lstmlens metadata, written by a newer format version, or its metadata
        is not valid JSON.
    """
    source = Path(path)
    if not source.is_file():
        raise ModelFileError(
            f"model file {source} not found; check the path (saved models end in .lstmlens)."
        )
    data = source.read_bytes()
    header = _read_header(data, source)
    metadata = _parse_metadata(header, source)
    try:
        tensors = safetensors.numpy.load(data)
    except Exception as error:  # SafetensorError is not importable under a stable name
        raise ModelFileError(
            f"{source} is damaged: its tensor data cannot be read ({error}); save the model again."
        ) from error
    return dict(tensors), metadata


def _read_header(data: bytes, source: Path) -> dict[str, Any]:
    """Decode the safetensors JSON header: 8-byte little-endian length, then JSON."""
    damaged = (
        f"{source} is not a valid lstmlens model file (not a safetensors file, truncated or "
        "corrupt)"
    )
    if len(data) < 8:
        raise ModelFileError(f"{damaged}: only {len(data)} bytes; save the model again.")
    (length,) = struct.unpack("<Q", data[:8])
    if length > len(data) - 8:
        raise ModelFileError(
            f"{damaged}: the header claims {length} bytes but the file has {len(data) - 8} "
            "after the length field; save the model again."
        )
    try:
        header = json.loads(data[8 : 8 + length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelFileError(f"{damaged}: header is not JSON ({error}).") from error
    if not isinstance(header, dict):
        raise ModelFileError(f"{damaged}: header is not a JSON object.")
    return header


def _parse_metadata(header: Mapping[str, Any], source: Path) -> dict[str, Any]:
    """Extract and check the lstmlens metadata from a safetensors header."""
    stored = header.get("__metadata__") or {}
    if not isinstance(stored, dict) or METADATA_KEY not in stored:
        raise ModelFileError(
            f"{source} is a safetensors file but not an lstmlens model (no '{METADATA_KEY}' "
            "metadata); load it with the library that wrote it, or save an lstmlens model "
            "with LSTMForecaster.save()."
        )
    try:
        metadata = json.loads(stored[METADATA_KEY])
    except (TypeError, json.JSONDecodeError) as error:
        raise ModelFileError(
            f"{source} has damaged lstmlens metadata (not valid JSON: {error}); "
            "save the model again."
        ) from error
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        found = metadata.get("format") if isinstance(metadata, dict) else metadata
        raise ModelFileError(
            f"{source} has lstmlens metadata with format {found!r}, expected "
            f"{FORMAT_NAME!r}; the file is not a model file."
        )
    version = metadata.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(
            f"{source} has an invalid format_version {version!r}; save the model again."
        )
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{source} uses format_version {version}, written by lstmlens "
            f"{metadata.get('library_version', '?')}; this lstmlens ({library_version()}) "
            f"reads up to format_version {FORMAT_VERSION}. Upgrade lstmlens to load it."
        )
    return metadata


# --- checking ---------------------------------------------------------------------------------


def validate_tensors(
    tensors: Mapping[str, NDArray[Any]],
    expected: Mapping[str, tuple[tuple[int, ...], DTypeLike]],
    *,
    source: str | os.PathLike[str] | None = None,
) -> None:
    """Check that ``tensors`` holds exactly the expected names, shapes and dtypes.

    Parameters
    ----------
    tensors : mapping of str to numpy.ndarray
        What was loaded.
    expected : mapping of str to (shape, dtype)
        What the model needs, e.g. ``{"lstm.0.weight_ih": ((64, 1), "float32")}``.
    source : str or os.PathLike, optional
        File name to put in the message.

    Raises
    ------
    ModelFileError
        Listing every missing, unexpected and mismatched tensor.
    """
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    mismatched = []
    for name in sorted(set(expected) & set(tensors)):
        shape, dtype = expected[name]
        array = tensors[name]
        if tuple(array.shape) != tuple(shape) or array.dtype != np.dtype(dtype):
            mismatched.append(
                f"{name} is {array.dtype}{list(array.shape)}, "
                f"expected {np.dtype(dtype)}{list(shape)}"
            )
    problems = []
    if missing:
        problems.append(f"missing tensors: {', '.join(missing)}")
    if unexpected:
        problems.append(f"unexpected tensors: {', '.join(unexpected)}")
    if mismatched:
        problems.append(f"mismatched tensors: {'; '.join(mismatched)}")
    if problems:
        where = f"{source} " if source is not None else ""
        raise ModelFileError(
            f"model file {where}does not match the model it describes ("
            + "; ".join(problems)
            + "); the file is damaged or was edited, save the model again."
        )
