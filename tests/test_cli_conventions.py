"""The conventions users type without thinking (issue 13): -h, --version, completion,
--verbose and --debug on every command, and bad values in click's words."""

from __future__ import annotations

import json
import re
from importlib.metadata import version
from pathlib import Path

import pytest
from cli_helpers import invoke, lines
from emulator_helpers import REFERENCE

from hubvpn.record import resource_name

COMMAND_PATHS = [
    (),
    ("deploy",),
    ("status",),
    ("verify",),
    ("plan",),
    ("destroy",),
    ("probe",),
    ("ssh",),
    ("emulator",),
    ("emulator", "serve"),
    ("emulator", "requests"),
    ("emulator", "reset"),
]
DEBUG_LINE = re.compile(
    r"^debug: GET /subscriptions/0{8}-0{4}-0{4}-0{4}-0{12}/resourceGroups/rg-multi-hub-vpn"
    r"/providers/Microsoft\.Network/virtualNetworks 404 x-ms-request-id=[0-9a-f-]{36}$"
)


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=lambda p: " ".join(p) or "hubvpn")
def test_help_short_option_shows_the_same_help_everywhere(path: tuple[str, ...]) -> None:
    short, long = invoke(*path, "-h"), invoke(*path, "--help")
    assert (short.exit_code, long.exit_code) == (0, 0)
    assert short.stdout == long.stdout
    assert "-h, --help" in short.stdout


@pytest.mark.parametrize("path", COMMAND_PATHS[1:], ids=lambda p: " ".join(p))
def test_help_of_every_command_offers_verbose_and_debug(path: tuple[str, ...]) -> None:
    if path == ("emulator",):
        pytest.skip("a group: its commands carry the options")
    out = invoke(*path, "-h").stdout
    assert "-v, --verbose" in out
    assert "--debug" in out


def test_version_prints_the_package_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout == f"hubvpn {version('hubvpn')}\n"


def test_help_offers_shell_completion() -> None:
    out = invoke("-h").stdout
    assert "--install-completion" in out
    assert "--show-completion" in out


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_logs_every_request_before_or_after_the_command(where: str, state_dir: Path) -> None:
    args = ["--debug", "status", "-c", REFERENCE]
    if where == "after":
        args = [*args[1:], "--debug"]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    debug = [line for line in lines(result.stderr) if line.startswith("debug:")]
    assert any(DEBUG_LINE.match(line) for line in debug), debug
    assert all(" x-ms-request-id=" in line for line in debug)


def test_status_without_debug_logs_no_request(state_dir: Path) -> None:
    result = invoke("status", "-c", REFERENCE, env={"HUBVPN_DEBUG": None})
    assert result.exit_code == 0
    assert [line for line in lines(result.stderr) if line.startswith("debug:")] == []
    # --debug of an earlier run in this process does not stick
    invoke("status", "-c", REFERENCE, "--debug")
    again = invoke("status", "-c", REFERENCE, env={"HUBVPN_DEBUG": None})
    assert [line for line in lines(again.stderr) if line.startswith("debug:")] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("verify", "--port", "0"), "Invalid value for '--port': '0' is not a TCP port (1-65535)."),
        (
            ("probe", "a", "b", "--port", "x"),
            "Invalid value for '--port': 'x' is not a TCP port (1-65535).",
        ),
        (
            ("emulator", "serve", "--port", "70000"),
            "Invalid value for '--port': '70000' is not a TCP port (1-65535).",
        ),
        (
            ("status", "--output", "xml"),
            "Invalid value for '--output' / '-o': 'xml' is not one of 'table', 'json'.",
        ),
        (
            ("plan", "--target", "mars"),
            "Invalid value for '--target' (env var: 'HUBVPN_TARGET'): 'mars' is not one of "
            "'auto', 'azure', 'emulator'.",
        ),
    ],
)
def test_bad_value_is_worded_without_pydantic_phrases(
    args: tuple[str, ...], message: str, state_dir: Path
) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    assert lines(result.stderr)[-1] == f"Error: {message}"
    assert "Value error" not in result.stderr
    assert "Input should be" not in result.stderr


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/subscriptions/0/resourcegroups/rg-x", "rg-x"),
        ("/subscriptions/0/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v", "v"),
        (
            "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/"
            "vnet-hub00/virtualNetworkPeerings/hub00-to-spoke10",
            "vnet-hub00/hub00-to-spoke10",
        ),
        (
            "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/"
            "vm-a/runCommand",
            "vm-a/runCommand",
        ),
    ],
)
def test_resource_name_of_a_write_path_names_the_resource(path: str, name: str) -> None:
    assert resource_name(path) == name


def test_emulator_requests_filters_by_method_status_and_last(state_dir: Path) -> None:
    assert invoke("status", "-c", REFERENCE).exit_code == 0
    every = json.loads(invoke("emulator", "requests", "-o", "json").stdout)["requests"]
    missing = [r for r in every if (r["method"], r["status"]) == ("GET", 404)]
    assert len(missing) > 2
    result = invoke(
        "emulator", "requests", "--method", "get", "--status", "404", "--last", "2", "-o", "json"
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer == {"requests": missing[-2:]}
    assert set(answer["requests"][0]) >= {"time", "method", "path", "status"}
    none = invoke("emulator", "requests", "--method", "PUT", "-o", "json")
    assert json.loads(none.stdout) == {"requests": []}


@pytest.mark.parametrize(
    ("option", "value", "what"),
    [("--last", "0", "a positive count"), ("--status", "x", "an HTTP status (100-599)")],
)
def test_emulator_requests_bad_filter_exits_2(
    option: str, value: str, what: str, state_dir: Path
) -> None:
    result = invoke("emulator", "requests", option, value)
    assert result.exit_code == 2
    assert (
        lines(result.stderr)[-1] == f"Error: Invalid value for '{option}': '{value}' is not {what}."
    )


RESOURCE_KEYS = {"name", "type", "state", "seconds", "code", "detail"}


def test_deploy_and_destroy_json_report_each_outcome_on_stdout(state_dir: Path) -> None:
    first = invoke("deploy", "-c", REFERENCE, "--output", "json")
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)  # stdout is the JSON alone: progress is on stderr
    assert (report["target"], report["topology"], report["ok"]) == (
        "emulator",
        "multi-hub-vpn",
        True,
    )
    assert {r["state"] for r in report["resources"]} == {"created"}
    assert report["writes"] == len(report["resources"]) == 53
    assert all(set(r) >= RESOURCE_KEYS for r in report["resources"])
    gateway = next(r for r in report["resources"] if r["name"] == "vpngw-hub01")
    assert (gateway["type"], gateway["code"], gateway["detail"]) == (
        "Microsoft.Network/virtualNetworkGateways",
        None,
        None,
    )
    assert "hub00-to-spoke10" in {r["name"].split("/")[-1] for r in report["resources"]}
    again = json.loads(invoke("deploy", "-c", REFERENCE, "-o", "json").stdout)
    assert (again["writes"], {r["state"] for r in again["resources"]}) == (0, {"unchanged"})

    gone = invoke("destroy", "-c", REFERENCE, "--yes", "--output", "json")
    assert gone.exit_code == 0, gone.output
    outcome = json.loads(gone.stdout)
    assert (outcome["writes"], outcome["resources"][0]["state"]) == (1, "deleted")
    assert outcome["resources"][0]["name"] == "rg-multi-hub-vpn"
    rerun = json.loads(invoke("destroy", "-c", REFERENCE, "--yes", "-o", "json").stdout)
    assert (rerun["writes"], rerun["resources"][0]["state"]) == (0, "absent")


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=lambda p: " ".join(p) or "hubvpn")
def test_help_of_every_command_ends_its_text_with_examples(path: tuple[str, ...]) -> None:
    if path in ((), ("emulator",)):
        pytest.skip("a group: its commands carry the examples")
    out = lines(invoke(*path, "-h").stdout)
    start = out.index("  Examples:")
    examples = out[start + 1 : out.index("", start)]
    assert examples, out
    assert all(line.startswith(f"    hubvpn {' '.join(path)}") for line in examples), examples


@pytest.mark.parametrize(
    ("value", "what"), [("FOO", "an HTTP method (GET, PUT, POST, PATCH, DELETE, HEAD, OPTIONS)")]
)
def test_emulator_requests_unknown_method_exits_2_instead_of_listing_nothing(
    value: str, what: str, state_dir: Path
) -> None:
    result = invoke("emulator", "requests", "--method", value)
    assert result.exit_code == 2
    assert (
        lines(result.stderr)[-1] == f"Error: Invalid value for '--method': '{value}' is not {what}."
    )


# design.md's JSON, key for key (issue 13: every documented key always present, null or
# false when it does not apply; inTopology and detail included).
STATUS_KEYS = {"target", "topology", "resource_group", "resources", "connections", "gateways"}
RESOURCE_ROW = {"id", "type", "name", "provisioningState", "inTopology"}
GATEWAY_ROW = {"name", "asn", "bgpPeeringAddress", "peers", "learnedRoutes"}
PEER_ROW = {"neighbor", "asn", "state", "routesReceived"}
LEARNED_ROW = {"network", "nextHop", "origin", "asPath"}
ROUTE_ROW = {"addressPrefix", "nextHopType", "source"}
VERIFY_KEYS = {"port", "ok", "probes"}
PROBE_ROW = {"from", "to", "address", "expected", "reachable", "hops", "detail"}
REQUEST_ROW = {"time", "method", "path", "status"}


def assert_status_keys(data: dict[str, object]) -> None:
    assert set(data) >= STATUS_KEYS | {"effectiveRoutes"}
    resources, gateways = data["resources"], data["gateways"]
    assert isinstance(resources, list) and isinstance(gateways, list)
    assert all(set(r) >= RESOURCE_ROW for r in resources)
    assert all(set(c) >= {"name", "connectionStatus"} for c in data["connections"])  # type: ignore[attr-defined]
    for gateway in gateways:
        assert set(gateway) >= GATEWAY_ROW
        assert all(set(p) >= PEER_ROW for p in gateway["peers"])
        assert all(set(r) >= LEARNED_ROW for r in gateway["learnedRoutes"])
    routes = data["effectiveRoutes"]
    assert isinstance(routes, dict)
    assert all(set(r) >= ROUTE_ROW for rows in routes.values() for r in rows)


def assert_verify_keys(data: dict[str, object]) -> None:
    assert set(data) >= VERIFY_KEYS
    probes = data["probes"]
    assert isinstance(probes, list) and probes
    assert all(set(p) >= PROBE_ROW for p in probes), probes[0]


def test_json_outputs_carry_every_documented_key_before_and_after_deploy(
    state_dir: Path,
) -> None:
    def json_of(*args: str | Path) -> dict[str, object]:
        data = json.loads(invoke(*args, "-c", REFERENCE, "-o", "json").stdout)
        assert isinstance(data, dict)
        return data

    before = json_of("status")
    assert_status_keys(before)
    assert before["resources"] == [] and before["gateways"] == []
    assert_verify_keys(json_of("verify"))
    plan = json_of("plan")
    reachability = plan["reachability"]
    assert isinstance(reachability, dict)
    assert_verify_keys(reachability)
    # a predicted-reachable probe has nothing to say: null, not absent
    assert {p["detail"] for p in reachability["probes"] if p["reachable"]} == {None}

    assert invoke("deploy", "-c", REFERENCE).exit_code == 0
    after = json_of("status")
    assert_status_keys(after)
    gateways = after["gateways"]
    assert isinstance(gateways, list) and len(gateways) == 2
    assert all(g["peers"] and g["learnedRoutes"] for g in gateways)
    assert_verify_keys(json_of("verify"))
    requests = json.loads(invoke("emulator", "requests", "-o", "json").stdout)["requests"]
    assert requests and all(set(r) >= REQUEST_ROW for r in requests)


def test_deploy_verbose_and_debug_name_each_write_and_never_the_shared_key(
    state_dir: Path,
) -> None:
    key = "Known-Shared-Key-For-This-Test-0427"
    result = invoke(
        "deploy", "-c", REFERENCE, "-v", "--debug", "-o", "json", env={"HUBVPN_SHARED_KEY": key}
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)  # stdout stays the JSON alone
    verbose = [line.split() for line in lines(result.stderr) if line.startswith("verbose:")]
    assert {(v[1], v[3][0]) for v in verbose} == {("PUT", "2")}  # one line per write
    written = {v[2] for v in verbose}
    assert {r["name"] for r in report["resources"]} <= written
    debug = [line for line in lines(result.stderr) if line.startswith("debug:")]
    assert len(debug) > len(verbose)  # every request, reads too
    assert all(" x-ms-request-id=" in line for line in debug)
    assert key not in result.output


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("hubvpn verify -c {c} --from spo", "spoke10 spoke20 spoke110 spoke120"),
        ("hubvpn verify -c {c} --to vm-h", "vm-hub00 vm-hub100"),
        ("hubvpn probe -c {c} spoke10 hub1", "hub100"),
        ("hubvpn ssh -c {c} vm-spoke1", "vm-spoke10 vm-spoke110 vm-spoke120"),
        ("hubvpn status -c {c} --hub ", "hub00 hub100"),
        ("hubvpn status -c no-such-file.toml --hub ", ""),
    ],
)
def test_shell_completion_offers_the_lab_vms_and_hubs(words: str, expected: str) -> None:
    line = words.format(c=REFERENCE)
    current = len(line.split()) - (0 if line.endswith(" ") else 1)
    env = {"_HUBVPN_COMPLETE": "complete_bash", "COMP_WORDS": line, "COMP_CWORD": str(current)}
    result = invoke(env=env)
    assert result.exit_code == 0, result.output
    assert " ".join(result.stdout.split()) == expected


def test_unknown_emulator_retry_hints_exit_2_naming_the_variable(state_dir: Path) -> None:
    result = invoke("status", "--target", "emulator", env={"HUBVPN_EMULATOR_RETRY_AFTER": "soon"})
    assert result.exit_code == 2
    assert lines(result.stderr)[-1].endswith(
        "HUBVPN_EMULATOR_RETRY_AFTER must be one of remaining, azure (got 'soon')"
    )
