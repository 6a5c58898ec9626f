"""The statistics of ``compare`` and the A/B mode on synthetic samples with known truth."""

from __future__ import annotations

import random

import pytest
from stats_docs import case, doc, icount_case

from tlsbench.harness.compare import paired_verdicts, verdicts
from tlsbench.harness.metrics import bootstrap_change, bootstrap_paired


def noisy(rng: random.Random, centre: float, n: int = 5, rel: float = 0.04) -> list[float]:
    """``n`` rates around ``centre`` with a relative spread ``rel`` (Gaussian)."""
    return [centre * (1 + rng.gauss(0, rel)) for _ in range(n)]


def test_a_known_slowdown_is_found_and_fails_past_the_limit() -> None:
    rng = random.Random(1)
    base, new = noisy(rng, 1000), noisy(rng, 750)
    [v] = verdicts(doc(case("rust", base)), doc(case("rust", new)), max_regression=10)
    assert v.significant and v.regression and v.verdict == "REGRESSION"
    assert v.low is not None and v.high is not None
    assert v.low <= v.change <= v.high < -0.10  # type: ignore[operator]
    assert v.low < -0.25 < v.high  # the true change lies inside


def test_a_known_speedup_is_faster_and_never_fails() -> None:
    rng = random.Random(2)
    base, new = noisy(rng, 1000), noisy(rng, 1300)
    [v] = verdicts(doc(case("rust", base)), doc(case("rust", new)), max_regression=1)
    assert v.significant and not v.regression and v.verdict == "faster"


def test_no_shift_is_rarely_significant() -> None:
    """200 pairs of runs of the same distribution: about 5% (at most 10%) significant."""
    rng = random.Random(3)
    hits = 0
    for _ in range(200):
        [v] = verdicts(doc(case("ssl", noisy(rng, 500))), doc(case("ssl", noisy(rng, 500))))
        hits += v.significant
        assert not v.regression  # no limit: nothing fails
    assert hits <= 20, hits


def test_an_interval_straddling_zero_is_not_significant() -> None:
    base = [100.0, 101.0, 99.0, 100.0, 100.5]
    new = [92.0, 108.0, 90.0, 110.0, 99.0]
    [v] = verdicts(doc(case("rust", base)), doc(case("rust", new)), max_regression=5)
    assert v.low is not None and v.high is not None and v.low < 0 < v.high
    assert v.verdict == "not significant" and not v.significant and not v.regression


def test_an_interval_straddling_the_limit_is_slower_but_does_not_fail() -> None:
    base = [100.0, 100.5, 99.5, 100.2, 99.8]
    new = [95.0, 88.0, 80.0, 93.0, 91.0]
    [v] = verdicts(doc(case("rust", base)), doc(case("rust", new)), max_regression=10)
    assert v.low is not None and v.high is not None
    assert v.low < -0.10 < v.high < 0
    assert v.significant and not v.regression and v.verdict == "slower"


def test_the_same_files_give_the_same_interval_and_the_seed_matters() -> None:
    rng = random.Random(4)
    a, b = doc(case("rust", noisy(rng, 900))), doc(case("rust", noisy(rng, 950)))
    assert verdicts(a, b) == verdicts(a, b)
    assert bootstrap_change([1, 2, 3, 4.0], [2, 3, 4, 5.0], "x") == bootstrap_change(
        [1, 2, 3, 4.0], [2, 3, 4, 5.0], "x"
    )
    assert bootstrap_change([1, 2, 3, 4.0], [2, 3, 4, 5.0], "x") != bootstrap_change(
        [1, 2, 3, 4.0], [2, 3, 4, 5.0], "y"
    )


def test_one_repeat_gives_no_interval_and_no_verdict() -> None:
    [v] = verdicts(doc(case("rust", [100.0])), doc(case("rust", [50.0])), max_regression=10)
    assert v.low is None and v.verdict == "not significant" and not v.regression
    assert bootstrap_change([1.0], [1.0, 2.0], "s") is None
    assert bootstrap_paired([0.9], "s") is None


def test_pairing_sees_through_drift_that_hides_a_slowdown_from_unpaired_repeats() -> None:
    """Host speed drifts 2x between repeats; new is 20% slower within every pair."""
    rng = random.Random(5)
    drift = [rng.uniform(0.5, 1.0) for _ in range(8)]
    base = [1000 * d * (1 + rng.gauss(0, 0.02)) for d in drift]
    new = [800 * d * (1 + rng.gauss(0, 0.02)) for d in drift]
    b, n = doc(case("rust", base)), doc(case("rust", new))
    [unpaired] = verdicts(b, n, max_regression=10)
    [paired] = paired_verdicts(b, n, max_regression=10)
    assert not unpaired.regression
    assert paired.regression and paired.high is not None and paired.high < -0.10
    assert paired.low is not None and paired.low < -0.2 < paired.high


def test_paired_no_shift_under_drift_does_not_fail() -> None:
    rng = random.Random(6)
    fails = 0
    for _ in range(100):
        drift = [rng.uniform(0.5, 1.0) for _ in range(5)]
        base = [1000 * d * (1 + rng.gauss(0, 0.03)) for d in drift]
        new = [1000 * d * (1 + rng.gauss(0, 0.03)) for d in drift]
        [v] = paired_verdicts(doc(case("ssl", base)), doc(case("ssl", new)), max_regression=5)
        fails += v.regression
    assert fails == 0


def test_instruction_counts_compare_per_side_with_a_default_limit_of_one_percent() -> None:
    base = doc(icount_case("rust", 7.30e6, 6.10e6), metric="instructions")
    worse = doc(icount_case("rust", 7.30e6 * 1.05, 6.10e6 * 1.0004), metric="instructions")
    client, server = sorted(verdicts(base, worse), key=lambda v: v.metric)
    assert client.metric == "instructions:client" and client.unit == "instructions/handshake"
    assert client.regression and client.verdict == "REGRESSION"
    assert client.change == pytest.approx(0.05)
    assert not server.significant and server.verdict == "not significant"
    slight = doc(icount_case("rust", 7.30e6 * 1.005, 6.10e6 * 0.99), metric="instructions")
    found = {v.metric: v for v in verdicts(base, slight)}
    assert found["instructions:client"].verdict == "more instructions"
    assert not found["instructions:client"].regression
    assert found["instructions:server"].verdict == "fewer instructions"
    # --max-regression overrides the default limit.
    assert any(v.regression for v in verdicts(base, slight, max_regression=0.4))
    assert not any(v.regression for v in verdicts(base, worse, max_regression=6))


def test_regressions_come_first_worst_first_and_missing_cases_are_named() -> None:
    base = doc(case("ssl", [100, 101, 99.0]), case("rust", [100, 101, 99.0]), case("py", [1, 1.0]))
    new = doc(case("ssl", [80, 81, 79.0]), case("rust", [50, 51, 49.0]))
    found = verdicts(base, new, max_regression=10)
    assert [v.label for v in found] == ["rust", "ssl", "py"]
    assert [v.verdict for v in found] == ["REGRESSION", "REGRESSION", "missing"]
    assert found[2].new is None and found[2].base == 1.0


def test_a_wall_run_and_an_instructions_run_do_not_compare() -> None:
    with pytest.raises(ValueError, match="instructions run"):
        verdicts(
            doc(case("rust", [1.0, 2.0])), doc(icount_case("rust", 1, 1), metric="instructions")
        )
