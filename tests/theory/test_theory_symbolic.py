"""Every sympy certificate passes, and the listing matches what runs."""

import pytest

from theory import symbolic

NAMES = [name for name, _ in symbolic.certificates()]


def test_listing_covers_the_issue():
    want = {
        "inverse_block_structure",
        "geometric_sum_and_limit",
        "scalar_linear_case",
        "theorem5_scalar_quadratic",
        "theorem4_algebra",
        "quasi_deer_equals_deer_diagonal",
        "discrete_continuous_exponent",
    }
    assert want <= set(NAMES)
    assert all(stmt for _, stmt in symbolic.certificates())


@pytest.fixture(scope="module")
def results():
    return {c.name: c for c in symbolic.run_all()}  # every check, run once


def test_run_all_lists_every_certificate_in_order(results):
    assert list(results) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_certificate_passes(name, results):
    cert = results[name]
    assert isinstance(cert, symbolic.Certificate)
    assert cert.name == name and cert.statement
    assert cert.passed, cert.detail


def test_run_one_by_name():
    cert = symbolic.run("theorem4_algebra")
    assert cert.passed and "β" in cert.statement


def test_unknown_certificate_name():
    with pytest.raises(ValueError, match="name"):
        symbolic.run("no_such_check")
