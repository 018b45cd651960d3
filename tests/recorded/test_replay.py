"""The emulator held to recorded Azure: every recording in tests/recorded/ replayed.

The figures are computed from the replay (``replay.py``); the targets hold on the
resource types hubvpn uses. ``python tests/recorded/replay.py -v`` prints the table and
every remaining difference; ``pytest -s`` prints the table too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recorded import differences
from recorded.replay import USED_TYPES, Report, key_paths, recordings, replay_all

STATUS_TARGET_PCT = 98.0
LRO_TARGET_PCT = 98.0
PATHS_TARGET_PCT = 95.0
DOC = Path(__file__).resolve().parents[2] / "docs" / "azure-differences.md"


@pytest.fixture(scope="module")
def report() -> Report:
    result = replay_all()
    print("\n" + result.table())
    return result


def test_replay_recordings_meet_fidelity_targets(report: Report) -> None:
    total = report.total()
    assert total.requests > 0
    remaining = "\n".join(report.mismatches())
    assert total.status_pct >= STATUS_TARGET_PCT, remaining
    assert total.lro_pct >= LRO_TARGET_PCT, remaining
    assert total.paths_pct >= PATHS_TARGET_PCT, remaining


def test_replay_differences_table_lists_only_live_differences(report: Report) -> None:
    stale = [f"{row.type} {row.what} {row.pattern}" for row in report.unused_differences()]
    assert stale == []


def test_replay_covers_types_hubvpn_uses(report: Report) -> None:
    replayed = {name.lower() for name in report.by_type()}
    for wanted in (
        "microsoft.network/virtualnetworks",
        "microsoft.network/publicipaddresses",
        "microsoft.network/virtualnetworkgateways",
        "microsoft.network/localnetworkgateways",
        "microsoft.network/connections",
    ):
        assert wanted in USED_TYPES
        assert wanted in replayed, wanted


def test_replay_counts_wrong_status_against_score(tmp_path: Path) -> None:
    recording = {
        "Entries": [
            {
                "RequestUri": "https://management.azure.com/subscriptions/"
                "00000000-0000-0000-0000-000000000000/resourcegroups/rg-missing"
                "?api-version=2021-04-01",
                "RequestMethod": "GET",
                "RequestHeaders": {},
                "RequestBody": None,
                "StatusCode": 200,
                "ResponseHeaders": {},
                "ResponseBody": {"id": "x", "name": "rg-missing"},
            }
        ],
        "Variables": {},
    }
    path = tmp_path / "made-up.json"
    path.write_text(json.dumps(recording))
    total = replay_all([path]).total()
    assert (total.requests, total.status_ok) == (1, 0)
    assert total.paths_pct < 100.0


def test_key_paths_unions_list_elements() -> None:
    body = {"value": [{"a": 1}, {"b": {"c": []}}], "d": None}
    assert key_paths(body) == {"value", "value[].a", "value[].b", "value[].b.c", "d"}


def test_recordings_are_test_proxy_files() -> None:
    for path in recordings():
        data = json.loads(path.read_text())
        assert isinstance(data.get("Entries"), list), path
        for entry in data["Entries"]:
            assert {"RequestUri", "RequestMethod", "StatusCode"} <= set(entry), path


def test_differences_doc_matches_table() -> None:
    assert DOC.read_text() == differences.render()
    for row in differences.DIFFERENCES:
        assert row.reason and row.what in ("status", "lro", "error", "path", "*"), row
