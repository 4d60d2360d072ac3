"""Shared fixtures: seeded generators and an optional PyTorch reference."""
import numpy as np
import pytest

import autodiff


@pytest.fixture
def rng():
    """A seeded numpy generator, fresh for each test."""
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _seed_engine():
    autodiff.manual_seed(0)
    yield
