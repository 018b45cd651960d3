"""The guest side of a VM's run command: a Linux shell in a narrow sense.

Azure runs a RunShellScript with bash on the VM and answers what it printed. The
emulator has no guest OS, so it evaluates only lines whose effect it can know from
the network: a TCP probe with bash's ``/dev/tcp`` under ``timeout`` (or ``nc -z``)
followed by ``&& echo A || echo B``, and ``echo``. Every other command is unknown to
this shell and bash's "command not found" goes to stderr, as a VM without that
program would answer.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass

Probe = Callable[[str, int], bool]  # (destination address, TCP port) -> connected

_TAIL = r"\s*&&\s*(?P<then>echo\b.*?)\s*\|\|\s*(?P<other>echo\b.*)$"
_DEV_TCP = re.compile(
    r"^timeout\s+\d+(?:\.\d+)?s?\s+bash\s+-c\s+"
    r"(?P<q>['\"])exec\s+3<>/dev/tcp/(?P<address>[^/\s]+)/(?P<port>\d+)(?P=q)" + _TAIL
)
_NC = re.compile(r"^nc\s+-z\s+-w\s*\d+\s+(?P<address>\S+)\s+(?P<port>\d+)" + _TAIL)


@dataclass(frozen=True)
class Output:
    stdout: str
    stderr: str


def run_script(lines: Iterable[str], probe: Probe) -> Output:
    """What bash prints for a script, line by line."""
    out: list[str] = []
    err: list[str] = []
    for raw in lines:
        for line in raw.splitlines():
            _run_line(line.strip(), probe, out, err)
    return Output("".join(out), "".join(err))


def _run_line(line: str, probe: Probe, out: list[str], err: list[str]) -> None:
    if not line or line.startswith("#"):
        return
    match = _DEV_TCP.match(line) or _NC.match(line)
    if match is not None:
        port = int(match["port"])
        connected = _is_ip(match["address"]) and 0 < port < 65536
        connected = connected and probe(match["address"], port)
        out.append(_echo(match["then"] if connected else match["other"]))
        return
    try:
        words = shlex.split(line)
    except ValueError:
        err.append(f"bash: syntax error: {line}\n")
        return
    if words and words[0] == "echo":
        out.append(_echo(line))
        return
    err.append(f"bash: {words[0] if words else line}: command not found\n")


def _echo(command: str) -> str:
    return " ".join(shlex.split(command)[1:]) + "\n"


def _is_ip(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True
