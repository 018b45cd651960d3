"""Which target a command runs on, and what it says when Azure cannot be used.

``--target auto`` never surprises: a configured credential without a subscription is
refused rather than silently sent to the emulator; tenant-level Azure CLI accounts are
not subscriptions; a missing credential is one line and exit 2, before any prompt.
The credential is azure-identity's DefaultAzureCredential itself: a test that needs
one puts a stand-in ``az`` (the Azure CLI's ``account get-access-token``) on PATH.
"""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path

import pytest
from test_cli import REFERENCE, invoke, lines

from hubvpn.azure import (
    NO_CREDENTIAL,
    TENANT_LEVEL_ACCOUNT,
    Target,
    TargetError,
    authenticate,
    resolve_target,
)

SUBSCRIPTION = "11111111-2222-3333-4444-555555555555"
OTHER_SUBSCRIPTION = "66666666-7777-8888-9999-000000000000"
TENANT = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"


def write_profile(config_dir: Path, *subscriptions: dict[str, object]) -> None:
    """An azureProfile.json as `az login` writes it (with its byte-order mark)."""
    config_dir.mkdir(parents=True, exist_ok=True)
    profile = {"installationId": "x", "subscriptions": list(subscriptions)}
    (config_dir / "azureProfile.json").write_text(json.dumps(profile), encoding="utf-8-sig")


def account(sub: str, name: str, *, default: bool = False) -> dict[str, object]:
    return {
        "id": sub,
        "name": name,
        "isDefault": default,
        "state": "Enabled",
        "tenantId": TENANT,
        "user": {"name": "user@example.com", "type": "user"},
        "environmentName": "AzureCloud",
    }


def access_token(tenant: str) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part({'tid': tenant})}.signature"


@pytest.fixture
def no_credential(state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No credential of any kind: no az, no environment, an empty home."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_USERNAME"):
        monkeypatch.delenv(name, raising=False)
    empty_bin = tmp_path / "empty-bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))
    return Path(os.environ["AZURE_CONFIG_DIR"])


@pytest.fixture
def fake_az(no_credential: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An `az` whose `account get-access-token` answers as a logged-in Azure CLI does."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    token = {
        "accessToken": access_token(TENANT),
        "expires_on": int(time.time()) + 3600,
        "subscription": SUBSCRIPTION,
        "tenant": TENANT,
        "tokenType": "Bearer",
    }
    script = bin_dir / "az"
    script.write_text(f"#!/bin/sh\necho '{json.dumps(token)}'\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return no_credential


def test_resolve_target_auto_nothing_configured_picks_emulator(no_credential: Path) -> None:
    target = resolve_target("auto", None)
    assert (target.name, target.source) == ("emulator", "no subscription configured")


@pytest.mark.parametrize(
    ("variable", "named"),
    [
        ("AZURE_CLIENT_ID", "AZURE_CLIENT_ID"),
        ("IDENTITY_ENDPOINT", "a managed identity (IDENTITY_ENDPOINT)"),
        ("MSI_ENDPOINT", "a managed identity (MSI_ENDPOINT)"),
    ],
)
def test_resolve_target_auto_credential_without_subscription_refuses(
    variable: str, named: str, no_credential: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, "http://169.254.169.254/x" if "ENDPOINT" in variable else "id")
    with pytest.raises(TargetError) as info:
        resolve_target("auto", None)
    assert str(info.value) == (
        f"{named} is configured but no subscription: pass --subscription ID, set "
        "AZURE_SUBSCRIPTION_ID, or pick one with `az account set`; or use --target emulator"
    )


def test_resolve_target_tenant_level_cli_default_is_not_a_subscription(
    no_credential: Path,
) -> None:
    write_profile(
        no_credential,
        account(TENANT, TENANT_LEVEL_ACCOUNT, default=True),
        account(SUBSCRIPTION, "Lab", default=False),
    )
    with pytest.raises(TargetError) as info:
        resolve_target("auto", None)
    assert str(info.value).startswith("an Azure CLI login is configured but no subscription")


def test_resolve_target_cli_default_skips_tenant_level_entries(no_credential: Path) -> None:
    write_profile(
        no_credential,
        account(TENANT, TENANT_LEVEL_ACCOUNT, default=False),
        account(SUBSCRIPTION, "Lab Subscription", default=True),
    )
    target = resolve_target("auto", None)
    assert target == Target("azure", SUBSCRIPTION, "Azure CLI default", "Lab Subscription")
    assert target.describe() == (
        f"Azure subscription Lab Subscription ({SUBSCRIPTION}, Azure CLI default)"
    )


@pytest.mark.parametrize("bad", ["my-subscription", "1111", f"{SUBSCRIPTION}0", ""])
def test_resolve_target_subscription_not_a_guid_refuses(bad: str, no_credential: Path) -> None:
    with pytest.raises(TargetError) as info:
        resolve_target("auto", bad)
    assert str(info.value) == f"--subscription: '{bad}' is not a subscription id (a GUID)"


def test_resolve_target_env_subscription_names_its_source(
    no_credential: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", OTHER_SUBSCRIPTION)
    write_profile(no_credential, account(SUBSCRIPTION, "Lab", default=True))
    target = resolve_target("auto", None)
    assert (target.subscription_id, target.source, target.display_name) == (
        OTHER_SUBSCRIPTION,
        "AZURE_SUBSCRIPTION_ID",
        None,
    )


def test_authenticate_without_credential_raises_one_line(no_credential: Path) -> None:
    with pytest.raises(TargetError) as info:
        authenticate(Target("azure", SUBSCRIPTION, "--subscription"))
    assert str(info.value) == NO_CREDENTIAL


def test_authenticate_with_cli_login_learns_tenant(fake_az: Path) -> None:
    write_profile(fake_az, account(SUBSCRIPTION, "Lab Subscription", default=True))
    target = authenticate(resolve_target("auto", None))
    assert (target.display_name, target.tenant_id) == ("Lab Subscription", TENANT)
    assert target.credential is not None
    target.credential.close()


@pytest.mark.parametrize("command", ["deploy", "destroy", "status", "plan"])
def test_command_without_credential_exits_2_with_one_line(
    command: str, no_credential: Path
) -> None:
    result = invoke(command, "-c", REFERENCE, "--subscription", SUBSCRIPTION, input="y\n")
    assert result.exit_code == 2
    assert lines(result.stderr) == [f"error: {NO_CREDENTIAL}"]


def test_command_auto_with_credential_but_no_subscription_exits_2(
    no_credential: Path,
) -> None:
    result = invoke("plan", "-c", REFERENCE, env={"AZURE_CLIENT_ID": "app"})
    assert result.exit_code == 2
    assert lines(result.stderr) == [
        "error: AZURE_CLIENT_ID is configured but no subscription: pass --subscription ID, "
        "set AZURE_SUBSCRIPTION_ID, or pick one with `az account set`; or use --target emulator"
    ]


def test_command_subscription_not_a_guid_exits_2(no_credential: Path) -> None:
    result = invoke("status", "-c", REFERENCE, "--subscription", "lab")
    assert result.exit_code == 2
    assert lines(result.stderr) == [
        "error: --subscription: 'lab' is not a subscription id (a GUID)"
    ]
