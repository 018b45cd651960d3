"""plan's reachability matrix at 80 columns and in pipes (issue 12): names never cut,
numbered headers when names do not fit, per-source exceptions when numbers do not
either, the cells a change flips marked, and no trailing spaces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import invoke, reference_without_key


def six_hubs(tmp_path: Path) -> Path:
    """Six hubs in a full mesh, one spoke each: twelve test VMs."""
    text = [
        'name = "six"',
        'resource_group = "rg-six"',
        'location = "japaneast"',
        "[vm]",
        'size = "Standard_B2ms"',
        'admin_username = "azureuser"',
        f'ssh_public_key_file = "{tmp_path}/absent/id.pub"',
    ]
    for i in range(6):
        base = 10 + i * 20
        text += [
            "[[hubs]]",
            f'name = "hub{i}"',
            f'address_space = "10.{base}.0.0/16"',
            f'default_subnet = "10.{base}.0.0/24"',
            f'gateway_subnet = "10.{base}.200.0/24"',
            f"asn = {65001 + i}",
            "  [[hubs.spokes]]",
            f'  name = "spoke{i}1"',
            f'  address_space = "10.{base + 1}.0.0/16"',
            f'  default_subnet = "10.{base + 1}.0.0/24"',
        ]
    path = tmp_path / "six.toml"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return path


def matrix(stdout: str) -> list[str]:
    """The matrix block: from its title to the blank line after it."""
    out = stdout.splitlines()
    start = out.index("Predicted TCP 22 reachability")
    end = out.index("", start)
    return out[start + 1 : end]


NUMBERED = [
    "(columns numbered as the rows)",
    "from \\ to    1  2  3  4  5  6  7  8  9 10 11 12",
    " 1 hub0      ·  ✓  ✓  ✓  ✓  ✓  ✓  ✓  ✓  ✓  ✓  ✓",
    " 2 spoke01   ✓  ·  ✓  ✓  ✓  ✓  ✓  ✓  ✓  ✓  ✓  ✓",
    " 3 hub1      ✓  ✓  ·  ✓  ✓  ✓  ✓  ✓  ✓  ✓  ✓  ✓",
    " 4 spoke11   ✓  ✓  ✓  ·  ✓  ✓  ✓  ✓  ✓  ✓  ✓  ✓",
    " 5 hub2      ✓  ✓  ✓  ✓  ·  ✓  ✓  ✓  ✓  ✓  ✓  ✓",
    " 6 spoke21   ✓  ✓  ✓  ✓  ✓  ·  ✓  ✓  ✓  ✓  ✓  ✓",
    " 7 hub3      ✓  ✓  ✓  ✓  ✓  ✓  ·  ✓  ✓  ✓  ✓  ✓",
    " 8 spoke31   ✓  ✓  ✓  ✓  ✓  ✓  ✓  ·  ✓  ✓  ✓  ✓",
    " 9 hub4      ✓  ✓  ✓  ✓  ✓  ✓  ✓  ✓  ·  ✓  ✓  ✓",
    "10 spoke41   ✓  ✓  ✓  ✓  ✓  ✓  ✓  ✓  ✓  ·  ✓  ✓",
    "11 hub5      ✓  ✓  ✓  ✓  ✓  ✓  ✓  ✓  ✓  ✓  ·  ✓",
    "12 spoke51   ✓  ✓  ✓  ✓  ✓  ✓  ✓  ✓  ✓  ✓  ✓  ·",
]


def test_plan_matrix_wider_than_80_columns_numbers_its_headers(
    tmp_path: Path, state_dir: Path
) -> None:
    result = invoke("plan", "-c", six_hubs(tmp_path))
    assert result.exit_code == 0, result.output
    assert matrix(result.stdout) == NUMBERED
    assert all(len(line) <= 80 and line == line.rstrip() for line in result.stdout.splitlines())


def test_plan_matrix_narrower_than_its_numbers_lists_exceptions_per_source(
    tmp_path: Path, state_dir: Path
) -> None:
    config = reference_without_key(tmp_path)
    result = invoke("plan", "-c", config, env={"COLUMNS": "28"})
    assert result.exit_code == 0, result.output
    assert matrix(result.stdout) == [
        "hub00 → all",
        "spoke10 → all but: spoke20",
        "spoke20 → all but: spoke10",
        "hub100 → all",
        "spoke110 → all but: spoke120",
        "spoke120 → all but: spoke110",
    ]


def test_plan_piped_keeps_lines_whole_and_without_trailing_spaces(
    tmp_path: Path, state_dir: Path
) -> None:
    result = invoke("plan", "-c", six_hubs(tmp_path), env={"COLUMNS": None})
    assert result.exit_code == 0, result.output
    out = result.stdout.splitlines()
    assert matrix(result.stdout)[0] == (
        "from \\ to  hub0  spoke01  hub1  spoke11  hub2  spoke21  hub3  spoke31  hub4  "
        "spoke41  hub5  spoke51"
    )
    [expected] = [line for line in out if line.startswith("Expected duration")]
    assert expected.endswith("→ conn-vpngw-hub0-vpngw-hub1)")  # one line, not wrapped
    assert [line for line in out if line != line.rstrip()] == []


@pytest.fixture
def deployed(tmp_path: Path, state_dir: Path) -> Path:
    config = reference_without_key(tmp_path)
    assert invoke("deploy", "-c", config).exit_code == 0
    return config


def test_plan_marks_cells_spoke_to_spoke_flips_on_a_deployed_lab(deployed: Path) -> None:
    changed = deployed.with_name("spokes.toml")
    changed.write_text(
        deployed.read_text(encoding="utf-8").replace(
            "spoke_to_spoke = false", "spoke_to_spoke = true"
        ),
        encoding="utf-8",
    )
    result = invoke("plan", "-c", changed)
    assert result.exit_code == 0, result.output
    assert matrix(result.stdout) == [
        "from \\ to  hub00  spoke10  spoke20  hub100  spoke110  spoke120",
        "hub00        ·       ✓        ✓       ✓        ✓         ✓",
        "spoke10      ✓       ·        ✓~      ✓        ✓         ✓",
        "spoke20      ✓       ✓~       ·       ✓        ✓         ✓",
        "hub100       ✓       ✓        ✓       ·        ✓         ✓",
        "spoke110     ✓       ✓        ✓       ✓        ·         ✓~",
        "spoke120     ✓       ✓        ✓       ✓        ✓~        ·",
        "~ flips with this change: ✓~ becomes reachable, ✗~ stops being reachable",
    ]
    flips = json.loads(invoke("plan", "-c", changed, "-o", "json").stdout)["flips"]
    assert flips == [
        {"from": "vm-spoke10", "to": "vm-spoke20", "reachable": True},
        {"from": "vm-spoke20", "to": "vm-spoke10", "reachable": True},
        {"from": "vm-spoke110", "to": "vm-spoke120", "reachable": True},
        {"from": "vm-spoke120", "to": "vm-spoke110", "reachable": True},
    ]
    # Unchanged, nothing flips and nothing is marked.
    same = invoke("plan", "-c", deployed)
    assert "~ flips" not in same.stdout
    assert json.loads(invoke("plan", "-c", deployed, "-o", "json").stdout)["flips"] == []
