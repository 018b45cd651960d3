"""One writer per topology: deploy and destroy hold a lock file in the state directory.

A second ``hubvpn deploy`` of the same topology from this machine is refused
with the pid of the one running, instead of racing it for the same resources::

    with topology_lock(state_dir, "multi-hub-vpn"):
        ...
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hubvpn.errors import OperationFailed


class LockHeld(OperationFailed):
    """Another hubvpn process is deploying or destroying this topology."""


@contextmanager
def topology_lock(state_dir: Path, topology: str) -> Iterator[None]:
    folder = state_dir / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{topology}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise LockHeld(
                f"another hubvpn process (pid {holder}) is deploying or destroying "
                f"'{topology}' from this state directory ({state_dir}); wait for it or stop it"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)
