"""An emulator of Azure Resource Manager for the resource types hubvpn uses.

It knows Azure, not hubvpn: it validates like Azure, takes (scaled) Azure
time, and computes BGP and routes with ``hubvpn.routing``. Clients reach it
in-process (``transport.EmulatorTransport``) or over loopback (``server``)::

    app = open_app(Path(".hubvpn"))          # settings from HUBVPN_EMULATOR_*

Modules: ``routes`` (the table of ARM path templates), ``app`` (the handler of
each endpoint), ``lro`` (long-running answers and their polling), ``arm`` (ids,
kinds, the world), ``store`` (SQLite), ``errors`` (ARM codes), ``resources/``
(one module per resource type, ``references`` for cross-type queries),
``types`` (the type names), ``physics`` (routing model over the world),
``limits``, ``transport``, ``server``.

A new ARM type is a module in ``resources/`` (a ``Kind``: type, durations,
validate, render, check_delete, POST actions in its class body), one line in
``resources.KINDS`` and its name in ``types``; its routes follow from its kind.
"""

from __future__ import annotations

import os
from pathlib import Path

from hubvpn.emulator.app import EmulatorApp
from hubvpn.emulator.arm import RETRY_AFTER_MODES, Faults, Settings
from hubvpn.emulator.store import Store

DEFAULT_SPEED = 180.0  # a 30-minute gateway takes 10 s


class EmulatorSettingsError(ValueError):
    """An HUBVPN_EMULATOR_* variable has a value the emulator cannot use."""


def settings_from_env() -> Settings:
    env = os.environ
    try:
        speed = float(env.get("HUBVPN_EMULATOR_SPEED", DEFAULT_SPEED))
        latency = float(env.get("HUBVPN_EMULATOR_LATENCY_MS", 0))
    except ValueError as err:
        raise EmulatorSettingsError(f"HUBVPN_EMULATOR_SPEED/LATENCY_MS: {err}") from None
    if speed <= 0:
        raise EmulatorSettingsError("HUBVPN_EMULATOR_SPEED must be a positive number")
    if latency < 0:
        raise EmulatorSettingsError("HUBVPN_EMULATOR_LATENCY_MS must not be negative")
    try:
        faults = Faults.parse(env.get("HUBVPN_EMULATOR_FAULTS", ""))
    except ValueError as err:
        raise EmulatorSettingsError(str(err)) from None
    auto_watcher = env.get("HUBVPN_EMULATOR_NO_AUTO_WATCHER", "") not in ("1", "true", "yes")
    hints = env.get("HUBVPN_EMULATOR_RETRY_AFTER", "") or "remaining"
    if hints not in RETRY_AFTER_MODES:
        raise EmulatorSettingsError(
            f"HUBVPN_EMULATOR_RETRY_AFTER must be one of {', '.join(RETRY_AFTER_MODES)}"
            f" (got {hints!r})"
        )
    return Settings(
        speed=speed,
        faults=faults,
        latency_ms=latency,
        auto_network_watcher=auto_watcher,
        retry_after=hints,
    )


def open_app(state_dir: Path, settings: Settings | None = None) -> EmulatorApp:
    return EmulatorApp(Store(state_dir), settings or settings_from_env())
