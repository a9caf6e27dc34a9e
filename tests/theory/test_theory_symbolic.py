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


@pytest.mark.parametrize("name", NAMES)
def test_certificate_passes(name):
    cert = symbolic.run(name)
    assert isinstance(cert, symbolic.Certificate)
    assert cert.name == name and cert.statement
    assert cert.passed, cert.detail


def test_run_all_returns_every_certificate():
    # run_all is the same loop as run(); calling it once keeps its contract covered.
    results = symbolic.run_all()
    assert [c.name for c in results] == NAMES and all(c.passed for c in results)


def test_unknown_certificate_name():
    with pytest.raises(ValueError, match="name"):
        symbolic.run("no_such_check")
