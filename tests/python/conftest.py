"""Shared helpers for the te Python tests (run with PYTHONPATH=python:build/python)."""
import numpy as np
import pytest

import te


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def nan_like(shape, dtype="float32"):
    """An output buffer pre-filled with NaN, so an element the kernel skips is caught."""
    return np.full(shape, np.nan, dtype=dtype)
