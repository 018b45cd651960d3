"""The fault soak (issue: never lose, never leak), one test per seed.

Each seed deploys the reference lab as a real process under 20% throttling, 10%
server errors and 5% failed operations, interrupts it (SIGINT on odd seeds,
SIGKILL on even ones) at a random moment, re-runs deploy until it succeeds, and
requires the end state to equal a clean deploy's: the same resources, all
Succeeded, both connections Connected, verify passing. ``python tests/soak.py``
prints the figures.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from soak import MAX_RERUNS, clean_state, soak

SEEDS = range(1, 21)

pytestmark = pytest.mark.soak


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, ...]:
    return clean_state(tmp_path_factory.mktemp("clean"))


@pytest.mark.parametrize("seed", SEEDS)
def test_deploy_interrupted_under_faults_converges_to_clean_state(
    seed: int, clean: tuple[object, ...], tmp_path: Path
) -> None:
    result = soak(seed, tmp_path / "state")
    if result.interrupt == "SIGINT":  # stopped cleanly (or had already finished)
        assert result.interrupted_exit in (0, 1, 130)
    assert result.exits[-1] == 0, f"deploy did not converge in {MAX_RERUNS} runs: {result.exits}"
    assert (result.resources, result.connections, result.verify_ok) == clean
    assert all(state == "Succeeded" for _, _, state in result.resources)
