"""The one table of known differences between the emulator and recorded Azure.

Each row names a resource type, what differs (``status``, ``lro``, ``error``, a key
``path``, or ``*`` for all of them), a pattern of the recorded value (or key path) it
excuses (fnmatch: ``*`` any text), the reason, and optionally the recordings it holds for.
The replay test leaves excused differences out of its score; ``docs/azure-differences.md``
is this table rendered (``render()``) and a test keeps the two equal. Every row is
``accepted``: the emulator stays so, for the reason given (some because the fixture's
request was modernised to today's Azure rules). A row that excuses nothing fails the replay
test: the table lists only differences that exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

ACCEPTED = "accepted"


@dataclass(frozen=True)
class Difference:
    type: str
    what: str  # status | lro | error | path
    pattern: str  # the recorded value (or key path) excused, fnmatch syntax
    reason: str
    state: str = ACCEPTED
    method: str | None = None  # only requests of this method (RESULT: a POST's final answer)
    source: str = "*"  # only recordings whose path matches (fnmatch)

    def matches(self, value: str) -> bool:
        return fnmatchcase(value, self.pattern)


N = "Microsoft.Network"
VNET = f"{N}/virtualNetworks"
GATEWAY = f"{N}/virtualNetworkGateways"
VM = "Microsoft.Compute/virtualMachines"

PIP = f"{N}/publicIPAddresses"
CONNECTION = f"{N}/connections"
FIXTURES = "azure-sdk-assets/*"
MODERNISED = (
    "modernised request: the recording created a Basic, dynamic address (retired by Azure); "
    "the fixture asks for a Standard, static one (zone-redundant for a gateway), so Azure's "
    "answer to it would carry these too (zones, ipAddress, ddosSettings)"
)

MODERNISED_IPS = (
    "*/TestVirtualNetworkGatewayTestSuite.json",
    "*/VirtualNetworkGatewayConnectionWithBgpTest.json",
    "*/TestPublicIpAddressTestSuite.json",
)

DIFFERENCES: tuple[Difference, ...] = (
    *(
        Difference(PIP, "path", path, MODERNISED, source=source)
        for path in ("*zones", "*properties.ipAddress", "*properties.ddosSettings*")
        for source in MODERNISED_IPS
    ),
    Difference(
        PIP,
        "path",
        "properties.ipAddress",
        "Azure allocates a new static address when the create operation completes; the "
        "emulator shows it in the PUT answer already",
        method="PUT",
    ),
    Difference(
        f"{N}/bastionHosts",
        "path",
        "properties.*",
        "the recording holds only the PUT answer of a Basic bastion, without dnsName or the "
        "feature flags (disableCopyPaste, enableTunneling, ...); the emulator shows them in "
        "every answer, as the spec's BastionHostPropertiesFormat describes",
        method="PUT",
    ),
    Difference(
        GATEWAY,
        "path",
        "*properties.vpnClientConfiguration*",
        "Azure returns an empty point-to-site configuration in PUT/PATCH answers and lists "
        "(not in GET); the emulator never shows one that was not sent (hubvpn configures no "
        "point-to-site)",
    ),
    Difference(
        GATEWAY,
        "path",
        "properties.bgpSettings.bgpPeeringAddress",
        "Azure assigns the BGP peering address only once the gateway is provisioned; the "
        "emulator shows it in the PUT answer already",
        method="PUT",
    ),
    Difference(
        GATEWAY,
        "path",
        "properties.bgpSettings.bgpPeeringAddresses[].tunnelIpAddresses",
        "Azure shows the tunnel addresses only once the gateway is provisioned; the emulator "
        "shows them in the PUT answer already",
        method="PUT",
    ),
    Difference(
        f"{VNET}*",
        "path",
        "*defaultOutboundAccess",
        "recordings made since 2025 show subnets' defaultOutboundAccess (false) unasked, older "
        "ones do not; the emulator shows it only when the PUT sets it",
    ),
    Difference(
        f"{N}/networkInterfaces",
        "lro",
        "none",
        "Azure answered this NIC PUT at once (201, Succeeded, no operation header); the "
        "emulator runs every NIC write as a short operation (Azure-AsyncOperation), which "
        "clients follow either way",
        method="PUT",
    ),
    Difference(
        VM,
        "path",
        "etag",
        "the recording used Compute api-version 2023-03-01, whose VM has no etag; the Compute "
        "API hubvpn uses returns one (read-only VirtualMachine.etag in azure-mgmt-compute 39), "
        "as the emulator does",
    ),
    Difference(
        VM,
        "path",
        "properties.storageProfile.imageReference.exactVersion",
        "Azure resolves 'latest' to the image version it used; the emulator has no image "
        "catalogue to resolve it from",
    ),
    Difference(
        VM,
        "path",
        "tags*",
        "tags the recording subscription's Azure Policy added to every VM (azsecpack, "
        "platformsettings...), not Azure's own behaviour",
        source=FIXTURES,
    ),
    Difference(
        f"{N}/networkWatchers",
        "path",
        "hops[].*link*",
        "connectivityCheck hops carry no link details in the emulator (links, previousLinks "
        "with round-trip times); hubvpn reads hop types, addresses and issues only",
        method="RESULT",
    ),
    Difference(
        f"{N}/networkWatchers",
        "path",
        "hops[].previousHopIds",
        "connectivityCheck hops do not name their previous hops in the emulator (nextHopIds "
        "only); hubvpn does not read them",
        method="RESULT",
    ),
    Difference(
        f"{N}/networkWatchers",
        "path",
        "hops[].issues[]*",
        "the 2020 recording reaches the Internet from a VM without a public IP; Azure retired "
        "that default outbound access for new subnets in September 2025, and the emulator's "
        "routing drops Internet traffic, so it answers Unreachable with an issue",
        method="RESULT",
        source="*/CheckConnectivityVmToInternetTest.json",
    ),
    Difference(
        "Microsoft.Resources/subscriptions",
        "path",
        "*",
        "the emulator's subscription answers id, subscriptionId, displayName and state only "
        "(no tenantId, policies, tags); hubvpn reads the display name",
    ),
    Difference(
        f"{GATEWAY}/connections",
        "*",
        "*",
        "the emulator does not serve VirtualNetworkGateways_ListConnections (hubvpn lists the "
        "connections of a resource group)",
    ),
)


def render() -> str:
    """The table as docs/azure-differences.md holds it."""
    lines = [
        "# Where the emulator differs from recorded Azure",
        "",
        "Generated from `tests/recorded/differences.py` (edit that file, then run",
        "`python tests/recorded/differences.py > docs/azure-differences.md`). The replay test",
        "(`tests/recorded/test_replay.py`) leaves these differences out of its fidelity figures;",
        "every other difference counts against them. State `accepted`: the emulator",
        "stays so, for the reason given.",
        "",
        "| resource type | what | recorded value / key path | state | reason |",
        "|---|---|---|---|---|",
    ]
    for row in DIFFERENCES:
        what = row.what if row.method is None else f"{row.what} ({row.method})"
        if row.source != "*":
            what += f" in `{row.source}`"
        lines.append(f"| `{row.type}` | {what} | `{row.pattern}` | {row.state} | {row.reason} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
