"""Failure classification and grouping, pure (the CLI's exact text: test_cli_failures.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from hubvpn.failures import Cause, advice, cause_of, group_failures, shorten_ids, wrap
from hubvpn.plan import Step

VNET_ID = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-lab"
    "/providers/Microsoft.Network/virtualNetworks/vnet-hub00"
)


@dataclass
class Outcome:
    step: Step
    state: str
    detail: str = ""
    code: str | None = None


def step(kind: str, name: str, *needs: str) -> Step:
    return Step(kind, name, "japaneast", None, needs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "cause"),
    [
        ("SubscriptionRequestsThrottled", Cause.TRANSIENT),
        ("InternalServerError", Cause.TRANSIENT),
        ("ServiceUnavailable", Cause.TRANSIENT),
        ("AnotherOperationInProgress", Cause.TRANSIENT),
        ("ResourceGroupBeingDeleted", Cause.DELETING),
        ("InvalidGatewaySku", Cause.TOPOLOGY),
        (None, Cause.TOPOLOGY),
    ],
)
def test_cause_of_code_classifies_azure_weather_apart_from_topology(
    code: str | None, cause: Cause
) -> None:
    assert cause_of(code) == cause


def test_shorten_ids_names_each_arm_id_by_its_resource() -> None:
    text = f"Subnet GatewaySubnet of {VNET_ID}/subnets/GatewaySubnet is in use by {VNET_ID}."
    assert shorten_ids(text) == "Subnet GatewaySubnet of GatewaySubnet is in use by vnet-hub00."


def test_group_failures_identical_errors_once_skipped_under_first_failed_need() -> None:
    nsg = step("network_security_group", "nsg-a")
    pip = step("public_ip", "pip-a")
    vnet = step("virtual_network", "vnet-a", nsg.key)
    gw = step("virtual_network_gateway", "gw-a", pip.key, vnet.key)
    boom = "InternalServerError: boom"
    outcomes = [
        Outcome(pip, "failed", boom, "InternalServerError"),
        Outcome(nsg, "failed", boom, "InternalServerError"),
        Outcome(gw, "skipped", f"needs {vnet.key}"),  # deploy saw the VNet's skip first
        Outcome(vnet, "skipped", f"needs {nsg.key}"),
    ]
    [failure] = group_failures(outcomes)
    assert (failure.code, failure.message, failure.cause) == (
        "InternalServerError",
        "boom",
        Cause.TRANSIENT,
    )
    assert [s.name for s in failure.steps] == ["nsg-a", "pip-a"]
    assert {k: [s.name for s in v] for k, v in failure.skipped.items()} == {
        nsg.key: ["vnet-a"],
        pip.key: ["gw-a"],  # its first need, in the plan's order
    }
    assert advice([failure], 80) == [
        "Azure was throttling / failing; your topology is fine: re-run deploy, it resumes",
        "from here.",
    ]


def test_wrap_words_keeps_names_whole_and_within_width() -> None:
    names = ["vnet-hub00/hub00-to-spoke10"] * 4
    assert wrap("  x: ", "    ", names, 40, ", ") == [
        "  x: vnet-hub00/hub00-to-spoke10,",
        "    vnet-hub00/hub00-to-spoke10,",
        "    vnet-hub00/hub00-to-spoke10,",
        "    vnet-hub00/hub00-to-spoke10",
    ]
