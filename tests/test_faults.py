"""Deploy under 20% throttling and 10% server errors succeeds in one run (a few seeds;
``python tests/faults.py --seeds 20`` prints the full figures)."""

from __future__ import annotations

from pathlib import Path

import pytest
from faults import EndState, deploy_once
from soak import clean_state

SEEDS = (101, 102, 103)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> EndState:
    return clean_state(tmp_path_factory.mktemp("clean"))


@pytest.mark.parametrize("seed", SEEDS)
def test_deploy_under_throttling_and_server_errors_succeeds_in_one_run(
    seed: int, clean: EndState, tmp_path: Path
) -> None:
    run = deploy_once(seed, tmp_path / "state")
    assert run.exit_code == 0, run.stderr_tail
    assert run.throttled > 0 and run.server_errors > 0  # the faults did happen
    assert run.end == clean
