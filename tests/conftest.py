"""Test session set-up: float64 (the paper's setting) and PRNG keys as fixtures."""

import jax
import pytest

# The library never touches global configuration; the test session opts into x64 here.
jax.config.update("jax_enable_x64", True)


@pytest.fixture
def key():
    return jax.random.key(0)


@pytest.fixture
def keys():
    return jax.random.split(jax.random.key(1234), 8)
