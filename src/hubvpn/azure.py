"""Where commands send their requests: real Azure or the embedded emulator.

``resolve_target`` decides without importing the SDK (so ``--help`` stays
instant); ``connect`` builds the three SDK clients lazily::

    target = resolve_target("auto", subscription=None)
    with connect(target, state_dir) as clients:
        clients.network.virtual_networks.get(group, name)

On Azure: DefaultAzureCredential and the subscription from ``--subscription``,
``AZURE_SUBSCRIPTION_ID`` or the Azure CLI's default. On the emulator: a fixed
subscription, a local token, and an in-process transport (no sockets).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    from hubvpn.emulator.app import EmulatorApp

EMULATOR_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
EMULATOR_URL = "https://management.emulator.hubvpn.invalid"
ARM_SCOPE = "https://management.azure.com/.default"
TARGETS = ("auto", "azure", "emulator")
POOL_SIZE = 64  # deploy runs dozens of pollers at once
STATE_DIR_ENV = "HUBVPN_STATE_DIR"


class TargetError(Exception):
    """The target cannot be used (no subscription for azure, SDK missing, ...)."""


@dataclass(frozen=True)
class Target:
    name: str  # "azure" | "emulator"
    subscription_id: str
    source: str  # where the subscription came from, for the first line of output

    @property
    def is_emulator(self) -> bool:
        return self.name == "emulator"

    def describe(self) -> str:
        if self.is_emulator:
            return "embedded emulator"
        return f"Azure subscription {self.subscription_id} ({self.source})"


def state_dir() -> Path:
    return Path(os.environ.get(STATE_DIR_ENV, ".hubvpn"))


def _cli_default_subscription() -> str | None:
    """The Azure CLI's default subscription, read from its profile (no process spawned)."""
    config_dir = Path(os.environ.get("AZURE_CONFIG_DIR", Path.home() / ".azure"))
    try:
        profile = json.loads((config_dir / "azureProfile.json").read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return None
    for sub in profile.get("subscriptions", []):
        if sub.get("isDefault") and sub.get("id"):
            return str(sub["id"])
    return None


def resolve_target(target: str, subscription: str | None) -> Target:
    """auto: Azure when a subscription is configured, else the emulator."""
    if target not in TARGETS:
        raise TargetError(f"unknown target '{target}': use one of {', '.join(TARGETS)}")
    if target == "emulator":
        return Target("emulator", EMULATOR_SUBSCRIPTION, "emulator")
    found: tuple[str, str] | None = None
    if subscription:
        found = (subscription, "--subscription")
    elif os.environ.get("AZURE_SUBSCRIPTION_ID"):
        found = (os.environ["AZURE_SUBSCRIPTION_ID"], "AZURE_SUBSCRIPTION_ID")
    else:
        cli = _cli_default_subscription()
        if cli:
            found = (cli, "Azure CLI default")
    if found is None:
        if target == "azure":
            raise TargetError(
                "no Azure subscription configured: pass --subscription, set "
                "AZURE_SUBSCRIPTION_ID, or run 'az login'"
            )
        return Target("emulator", EMULATOR_SUBSCRIPTION, "no subscription configured")
    return Target("azure", found[0], found[1])


class _EmulatorCredential:
    """A token for the emulator, which checks none (it never leaves the process)."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken("emulator", int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        from azure.core.credentials import AccessTokenInfo

        return AccessTokenInfo("emulator", int(time.time()) + 3600)

    def close(self) -> None:
        """Nothing to close."""


class Clients:
    """The SDK clients of one command, sharing one HTTP session."""

    def __init__(self, target: Target, state: Path) -> None:
        import requests
        from azure.core.pipeline.transport import RequestsTransport
        from azure.mgmt.compute import ComputeManagementClient
        from azure.mgmt.network import NetworkManagementClient
        from azure.mgmt.resource.resources import ResourceManagementClient

        self.target = target
        self.subscription_id = target.subscription_id
        self.emulator: EmulatorApp | None = None
        session = requests.Session()
        options: dict[str, Any] = {}
        credential: Any
        if target.is_emulator:
            from hubvpn.emulator import open_app
            from hubvpn.emulator.transport import WsgiAdapter

            self.emulator = open_app(state)
            session.mount("https://", WsgiAdapter(self.emulator))
            credential = _EmulatorCredential()
            options.update(base_url=EMULATOR_URL, credential_scopes=[ARM_SCOPE])
            # Injected 5xx faults are retried as on Azure, but backoff follows the
            # emulator's clock rather than Azure's seconds.
            options.update(retry_backoff_factor=0.8 / self.emulator.settings.speed * 10)
        else:
            from azure.identity import DefaultAzureCredential
            from requests.adapters import HTTPAdapter

            session.mount("https://", HTTPAdapter(pool_connections=4, pool_maxsize=POOL_SIZE))
            credential = DefaultAzureCredential()
        self._credential = credential
        self._session = session
        transport = RequestsTransport(session=session, session_owner=False)
        common = dict(transport=transport, polling_interval=10, **options)
        sub = target.subscription_id
        self.network: NetworkManagementClient = NetworkManagementClient(credential, sub, **common)
        self.compute: ComputeManagementClient = ComputeManagementClient(credential, sub, **common)
        self.resource: ResourceManagementClient = ResourceManagementClient(
            credential, sub, **common
        )

    def close(self) -> None:
        for client in (self.network, self.compute, self.resource):
            client.close()
        self._session.close()
        close = getattr(self._credential, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> Clients:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def connect(target: Target, state: Path | None = None) -> Clients:
    try:
        return Clients(target, state or state_dir())
    except ImportError as err:
        raise TargetError(
            f"the Azure SDK is not installed ({err.name}): pip install hubvpn"
        ) from None


def error_code(err: BaseException) -> str | None:
    """The ARM error code of an SDK exception (``err.error.code``), if it has one."""
    inner = getattr(err, "error", None)
    code = getattr(inner, "code", None)
    return str(code) if code else None


def error_message(err: BaseException) -> str:
    inner = getattr(err, "error", None)
    message = getattr(inner, "message", None)
    if message:
        return str(message)
    return str(err).splitlines()[0] if str(err) else type(err).__name__
