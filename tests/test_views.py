"""views: typed results as the user reads them (exact text, no terminal)."""

from __future__ import annotations

import pytest

from hubvpn import views
from hubvpn.console import Console
from hubvpn.status import ConnectionRow, HubRow, ResourceRow, Status

GROUP_ID = "/subscriptions/0/resourceGroups/rg-lab"


def lagging_status() -> Status:
    """A lab right after deploy whose tunnel did not come up within the bounded wait."""
    return Status(
        "emulator",
        "lab",
        "rg-lab",
        True,
        resources=(
            ResourceRow(GROUP_ID, "Microsoft.Resources/resourceGroups", "rg-lab", "Succeeded"),
        ),
        connections=(ConnectionRow("conn-a-b", "Unknown", "Succeeded"),),
        hubs=(HubRow("hub00", "japaneast", "vpngw-a", ()),),
        awaited=("connection conn-a-b (Unknown)",),
    )


def test_render_status_not_converged_says_so_and_names_what_is_awaited(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    views.status(Console(), lagging_status())
    assert [line.rstrip() for line in capsys.readouterr().out.splitlines()] == [
        "lab in rg-lab: 1 resources (1 Succeeded)",
        "not converged yet: still waiting for connection conn-a-b (Unknown)",
        "",
        "Connections",
        "connection  status",
        "conn-a-b    Unknown",
        "",
        "hub00 (japaneast)",
        "  gateway vpngw-a: not deployed",
    ]


def test_status_json_not_converged_lists_what_is_awaited() -> None:
    data = lagging_status().as_json()
    assert (data["converged"], data["awaited"]) == (False, ["connection conn-a-b (Unknown)"])
    assert data["connections"] == [
        {"name": "conn-a-b", "connectionStatus": "Unknown", "provisioningState": "Succeeded"}
    ]
