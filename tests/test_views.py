"""views: typed results as the user reads them (exact text, no terminal)."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console as RichConsole

from hubvpn import views
from hubvpn.console import Console
from hubvpn.status import ConnectionRow, EffectiveRoute, HubRow, ResourceRow, Status

ANSI = re.compile(r"\x1b\[[0-9;]*m")
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


def routed_status() -> Status:
    """One VM whose NIC has a user-defined route beside a gateway route and a default."""
    return Status(
        "emulator",
        "lab",
        "rg-lab",
        True,
        resources=(
            ResourceRow(GROUP_ID, "Microsoft.Resources/resourceGroups", "rg-lab", "Succeeded"),
        ),
        effective_routes={
            "vm-spoke10": (
                EffectiveRoute(("10.10.0.0/16",), "VnetLocal", "Default", "Active", ()),
                EffectiveRoute(
                    ("10.20.0.0/16",),
                    "VirtualNetworkGateway",
                    "User",
                    "Active",
                    (),
                ),
                EffectiveRoute(
                    ("10.100.0.0/16",),
                    "VirtualNetworkGateway",
                    "VirtualNetworkGateway",
                    "Active",
                    ("10.0.200.4",),
                ),
            )
        },
        hubs=(HubRow("hub00", "japaneast", "vpngw-a", ("vm-spoke10",), ("hub00", "spoke10")),),
    )


def render(status: Status, show_all: bool = False) -> str:
    console = Console()
    console.out = RichConsole(
        file=io.StringIO(), width=80, force_terminal=True, color_system="standard"
    )
    views.status(console, status, show_all)
    text = console.out.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(text, str)
    return text


def test_render_status_user_route_stands_out_in_bold_magenta() -> None:
    out = render(routed_status())
    user = next(line for line in out.splitlines() if "10.20.0.0/16" in line)
    gateway = next(line for line in out.splitlines() if "10.100.0.0/16" in line)
    assert "\x1b[1;35mUser" in user
    assert "\x1b[1;35m" not in gateway


def test_render_status_default_routes_only_with_all() -> None:
    plain = ANSI.sub("", render(routed_status()))
    full = ANSI.sub("", render(routed_status(), show_all=True))
    assert "Effective routes of vm-spoke10 (1 Default hidden; --all shows them)" in plain
    assert "10.10.0.0/16" not in plain
    assert [line.rstrip() for line in full.splitlines()][-4:] == [  # User first, then az's order
        "Source                State  Address Prefix Next Hop Type         Next Hop IP",
        "User                  Active 10.20.0.0/16   VirtualNetworkGateway",
        "Default               Active 10.10.0.0/16   VnetLocal",
        "VirtualNetworkGateway Active 10.100.0.0/16  VirtualNetworkGateway 10.0.200.4",
    ]
