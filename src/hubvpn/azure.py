"""Where commands send their requests: real Azure or the embedded emulator.

``resolve_target`` decides without importing the SDK (so ``--help`` stays
instant); ``authenticate`` tries the credential once (before any prompt) and names
the subscription; ``connect`` builds the three SDK clients lazily::

    target = authenticate(resolve_target("auto", subscription=None))
    with connect(target, state_dir) as clients:
        clients.network.virtual_networks.get(group, name)

On Azure: DefaultAzureCredential and the subscription from ``--subscription``,
``AZURE_SUBSCRIPTION_ID`` or the Azure CLI's default (auto refuses to fall back to the
emulator when a credential is configured but no subscription). On the emulator: a
fixed subscription, a local token, and an in-process transport (no sockets).

Every client's pipeline retries on a time budget (``retry.py``) and, when asked
(``HUBVPN_RECORD``, ``HUBVPN_DEBUG``), records or logs each attempt (``record.py``).
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from hubvpn import collector

if TYPE_CHECKING:
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    from hubvpn.emulator.app import EmulatorApp
    from hubvpn.record import Recorder
    from hubvpn.retry import RetryBudget

EMULATOR_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
EMULATOR_URL = "https://management.emulator.hubvpn.invalid"
ARM_SCOPE = "https://management.azure.com/.default"
TARGETS = ("auto", "azure", "emulator")
POOL_SIZE = 64  # deploy runs dozens of pollers at once
# Reads sent at once. On Azure a read mostly waits for the network (~100 ms), so dozens
# overlap. On the in-process emulator without simulated latency a read is only CPU of
# this process (one core: the GIL), so a second thread only contends for it: a 20-hub
# no-op redeploy took 1.7-2.2 s of CPU with 32 reading threads, 1.6-2.0 s with two and
# 1.5-1.6 s with one (benchmarks/bench.py's mesh, interleaved in one process).
PARALLEL_READS = 32
IN_PROCESS_READS = 1
AZURE_URL = "https://management.azure.com"
POLLING_INTERVAL_S = 10  # between polls when ARM gives no Retry-After
STATE_DIR_ENV = "HUBVPN_STATE_DIR"
SUBSCRIPTION_API_VERSION = "2022-12-01"
# What `az login` writes for a tenant where the user has no subscription: not one.
TENANT_LEVEL_ACCOUNT = "N/A(tenant level account)"
NO_CREDENTIAL = (
    "no Azure credential: run `az login`, or set AZURE_CLIENT_ID/AZURE_TENANT_ID/"
    "AZURE_CLIENT_SECRET, or use --target emulator"
)
NO_SUBSCRIPTION = (
    "no Azure subscription configured: pass --subscription, set "
    "AZURE_SUBSCRIPTION_ID, or run 'az login'"
)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


class TargetError(Exception):
    """The target cannot be used (no subscription for azure, SDK missing, ...)."""


@dataclass(frozen=True)
class Target:
    name: str  # "azure" | "emulator"
    subscription_id: str
    source: str  # where the subscription came from, for the first line of output
    display_name: str | None = None  # the subscription's name, once known
    tenant_id: str | None = None
    # The credential that answered (azure, after ``authenticate``): reused by connect.
    credential: Any = field(default=None, compare=False, repr=False)

    @property
    def is_emulator(self) -> bool:
        return self.name == "emulator"

    def describe(self) -> str:
        if self.is_emulator:
            return "embedded emulator"
        if self.display_name:
            return f"Azure subscription {self.display_name} ({self.subscription_id}, {self.source})"
        return f"Azure subscription {self.subscription_id} ({self.source})"


def state_dir() -> Path:
    return Path(os.environ.get(STATE_DIR_ENV, ".hubvpn"))


def _cli_subscriptions() -> list[dict[str, Any]]:
    """The Azure CLI's accounts, read from its profile (no process spawned); tenant-level
    entries (a tenant where the user has no subscription) are not subscriptions."""
    config_dir = Path(os.environ.get("AZURE_CONFIG_DIR", Path.home() / ".azure"))
    try:
        profile = json.loads((config_dir / "azureProfile.json").read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return []
    entries = profile.get("subscriptions") if isinstance(profile, dict) else None
    if not isinstance(entries, list):
        return []
    return [e for e in entries if isinstance(e, dict) and e.get("id")]


def _cli_default_subscription() -> str | None:
    for sub in _cli_subscriptions():
        if sub.get("isDefault") and sub.get("name") != TENANT_LEVEL_ACCOUNT:
            return str(sub["id"])
    return None


def _cli_display_name(subscription: str) -> str | None:
    for sub in _cli_subscriptions():
        same = str(sub["id"]).lower() == subscription.lower()
        if same and sub.get("name") and sub.get("name") != TENANT_LEVEL_ACCOUNT:
            return str(sub["name"])
    return None


def configured_credential() -> str | None:
    """Which Azure credential the environment points at, if any (no token is asked)."""
    if os.environ.get("AZURE_CLIENT_ID"):
        return "AZURE_CLIENT_ID"
    for name in ("IDENTITY_ENDPOINT", "MSI_ENDPOINT"):
        if os.environ.get(name):
            return f"a managed identity ({name})"
    if _cli_subscriptions():
        return "an Azure CLI login"
    return None


def resolve_target(target: str, subscription: str | None) -> Target:
    """auto: Azure when a subscription is configured, else the emulator; but never the
    emulator when a credential is configured and only the subscription is missing."""
    if target not in TARGETS:
        raise TargetError(f"unknown target '{target}': use one of {', '.join(TARGETS)}")
    if target == "emulator":
        return Target("emulator", EMULATOR_SUBSCRIPTION, "emulator")
    found: tuple[str, str] | None = None
    if subscription is not None:
        found = (subscription.strip(), "--subscription")
    elif os.environ.get("AZURE_SUBSCRIPTION_ID"):
        found = (os.environ["AZURE_SUBSCRIPTION_ID"].strip(), "AZURE_SUBSCRIPTION_ID")
    else:
        cli = _cli_default_subscription()
        if cli:
            found = (cli, "Azure CLI default")
    if found is None:
        if target == "azure":
            raise TargetError(NO_SUBSCRIPTION)
        credential = configured_credential()
        if credential is not None:
            raise TargetError(
                f"{credential} is configured but no subscription: pass --subscription ID, "
                "set AZURE_SUBSCRIPTION_ID, or pick one with `az account set`; "
                "or use --target emulator"
            )
        return Target("emulator", EMULATOR_SUBSCRIPTION, "no subscription configured")
    sub, source = found
    if not _GUID.match(sub):
        raise TargetError(f"{source}: '{sub}' is not a subscription id (a GUID)")
    return Target("azure", sub, source, display_name=_cli_display_name(sub))


def quiet_identity_logs(debug: bool) -> None:
    """azure-identity logs each credential it tries (a dozen lines per failure): only
    under debug."""
    import logging

    level = logging.DEBUG if debug else logging.CRITICAL
    logging.getLogger("azure.identity").setLevel(level)


def _tenant_of(token: str) -> str | None:
    """The tenant id (``tid`` claim) of an access token, so recordings can hide it."""
    import base64

    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    tid = claims.get("tid") if isinstance(claims, dict) else None
    return str(tid) if tid else None


def authenticate(target: Target, *, debug: bool | None = None) -> Target:
    """On Azure: get a token once (one line and TargetError when there is no credential,
    before any prompt) and learn the subscription's display name. The emulator as is."""
    if target.is_emulator or target.credential is not None:
        return target
    from hubvpn.record import DEBUG_ENV, enabled

    debug = enabled(DEBUG_ENV) if debug is None else debug
    try:
        from azure.core.exceptions import ClientAuthenticationError
        from azure.identity import DefaultAzureCredential
    except ImportError as err:
        raise TargetError(
            f"the Azure SDK is not installed ({err.name}): pip install hubvpn"
        ) from None
    quiet_identity_logs(debug)
    credential = DefaultAzureCredential()
    try:
        token = credential.get_token(ARM_SCOPE)
    except ClientAuthenticationError:
        credential.close()
        raise TargetError(NO_CREDENTIAL) from None
    return replace(
        target,
        credential=credential,
        tenant_id=_tenant_of(token.token),
        display_name=target.display_name or _display_name(target, credential, debug),
    )


def _display_name(target: Target, credential: Any, debug: bool) -> str | None:
    """GET /subscriptions/{id}: its displayName; TargetError if this credential cannot
    see it (a typo in the id, or the wrong tenant)."""
    from azure.core.exceptions import AzureError, HttpResponseError
    from azure.core.rest import HttpRequest
    from azure.mgmt.resource.resources import ResourceManagementClient

    client = ResourceManagementClient(
        credential, target.subscription_id, **_pipeline_options(None, None, debug)
    )
    request = HttpRequest(
        "GET", f"/subscriptions/{target.subscription_id}?api-version={SUBSCRIPTION_API_VERSION}"
    )
    try:
        response = client._send_request(request)
        response.raise_for_status()
        name = response.json().get("displayName")
    except HttpResponseError as err:
        raise TargetError(
            f"subscription {target.subscription_id} ({target.source}) is not visible to this "
            f"credential: {error_code(err) or err.status_code}"
        ) from None
    except AzureError as err:  # no answer at all (DNS, proxy, connection refused)
        raise TargetError(f"cannot reach Azure Resource Manager: {error_message(err)}") from None
    finally:
        client.close()
    return str(name) if name else None


def _pipeline_options(
    budget: RetryBudget | None, recorder: Recorder | None, debug: bool, verbose: bool = False
) -> dict[str, Any]:
    """The SDK clients' retry policy (Azure's budget unless given) and the extra
    policies every attempt (every call, for ``verbose``) passes through."""
    from hubvpn.record import DebugLog, Sanitizer, WriteLog
    from hubvpn.retry import BudgetRetryPolicy, RetryBudget

    budget = budget or RetryBudget.azure()
    per_retry: list[Any] = []
    if recorder is not None:
        per_retry.append(recorder)
    if debug:
        per_retry.append(DebugLog(recorder.sanitizer if recorder else Sanitizer()))
    per_call: list[Any] = [WriteLog()] if verbose else []
    return {
        "retry_policy": BudgetRetryPolicy(budget),
        "per_retry_policies": per_retry,
        "per_call_policies": per_call,
    }


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
    """The SDK clients of one command, sharing one transport (``transport``): a
    requests session on Azure, the in-process ``EmulatorTransport`` on the emulator.

    ``debug``: one line per request on stderr (default: ``HUBVPN_DEBUG``); ``verbose``:
    one line per write (``record.WriteLog``); ``record``:
    a directory where ``close`` writes the sanitised traffic (default: ``HUBVPN_RECORD``).
    """

    def __init__(
        self,
        target: Target,
        state: Path,
        *,
        debug: bool | None = None,
        record: Path | None = None,
        verbose: bool = False,
    ) -> None:
        from azure.mgmt.compute import ComputeManagementClient
        from azure.mgmt.network import NetworkManagementClient
        from azure.mgmt.resource.resources import ResourceManagementClient

        from hubvpn.record import DEBUG_ENV, RECORD_ENV, Recorder, Sanitizer, enabled
        from hubvpn.retry import RetryBudget
        from hubvpn.sdk_models import serialise_model_setup

        serialise_model_setup()  # before any thread creates a model (sdk_models.py)

        debug = enabled(DEBUG_ENV) if debug is None else debug
        if record is None and os.environ.get(RECORD_ENV):
            record = Path(os.environ[RECORD_ENV])
        self.target = target = authenticate(target, debug=debug)
        self.subscription_id = target.subscription_id
        self.emulator: EmulatorApp | None = None
        self.recorder = (
            Recorder(record, Sanitizer([target.subscription_id, target.tenant_id or ""]))
            if record is not None
            else None
        )
        options: dict[str, Any] = {}
        credential: Any
        budget: RetryBudget | None = None
        # The requests session of the Azure transport (none on the emulator).
        self._session: Any = None
        if target.is_emulator:
            from hubvpn.emulator import open_app
            from hubvpn.emulator.transport import EmulatorTransport

            self.emulator = open_app(state)
            # azure-core's pipeline as on Azure, then the app instead of a socket.
            self.transport: Any = EmulatorTransport(self.emulator)
            credential = _EmulatorCredential()
            options.update(base_url=EMULATOR_URL, credential_scopes=[ARM_SCOPE])
            # Azure's retry budget and backoff on the emulator's clock.
            budget = RetryBudget.emulator(self.emulator.settings.speed)
        else:
            import requests
            from azure.core.pipeline.transport import RequestsTransport
            from requests.adapters import HTTPAdapter

            session = requests.Session()
            session.mount("https://", HTTPAdapter(pool_connections=4, pool_maxsize=POOL_SIZE))
            credential = target.credential
            self._session = session
            self.transport = RequestsTransport(session=session, session_owner=False)
        self._credential = credential
        self.base_url = str(options.get("base_url", AZURE_URL))
        transport = self.transport
        sub = target.subscription_id
        self.network: NetworkManagementClient
        self.compute: ComputeManagementClient
        self.resource: ResourceManagementClient
        clients: list[Any] = []
        for cls in (NetworkManagementClient, ComputeManagementClient, ResourceManagementClient):
            # One retry policy per client: it keeps no state between requests, but
            # azure-core's policies are not documented as shareable.
            common = _pipeline_options(budget, self.recorder, debug, verbose)
            clients.append(
                cls(
                    credential,
                    sub,
                    transport=transport,
                    polling_interval=POLLING_INTERVAL_S,
                    **common,
                    **options,
                )
            )
        self.network, self.compute, self.resource = clients

    @property
    def parallel_reads(self) -> int:
        """How many reads to send at once through these clients: one at a time on the
        in-process emulator unless it simulates network latency."""
        if self.emulator is not None and not self.emulator.settings.latency_ms:
            return IN_PROCESS_READS
        return PARALLEL_READS

    def polling(self, *, read_back: bool = True) -> Any:
        """A polling method for one long-running operation (``begin_*(..., polling=)``):
        ARM's, with the first poll after the Retry-After of the first answer.
        ``read_back=False``: a PUT ends on its operation's status, without the final GET
        of the resource (the poller's result is then None)."""
        from hubvpn.retry import PatientPolling

        return PatientPolling(
            POLLING_INTERVAL_S,
            read_back=read_back,
            path_format_arguments={"endpoint": self.base_url},
        )

    def close(self) -> None:
        for client in (self.network, self.compute, self.resource):
            client.close()
        self.transport.close()
        if self._session is not None:
            self._session.close()
        close = getattr(self._credential, "close", None)
        if close is not None:
            close()
        if self.recorder is not None:
            self.recorder.save()

    def __enter__(self) -> Clients:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def connect(
    target: Target,
    state: Path | None = None,
    *,
    debug: bool | None = None,
    record: Path | None = None,
    verbose: bool = False,
) -> Clients:
    try:
        clients = Clients(target, state or state_dir(), debug=debug, record=record, verbose=verbose)
    except ImportError as err:
        raise TargetError(
            f"the Azure SDK is not installed ({err.name}): pip install hubvpn"
        ) from None
    collector.settle()  # the SDK is loaded: what exists now lives as long as the process
    return clients


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
