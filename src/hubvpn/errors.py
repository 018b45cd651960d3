"""hubvpn's errors: each says what went wrong in one message and carries its exit code.

The command line has one boundary (``cli.boundary``) that prints the message and
exits with the code; nothing else catches them::

    HubvpnError                  exit 1; str() is the message the user reads
     ├── BadInput                exit 2: the command line or a file it names
     │    ├── TopologyError      invalid topology file (config.py); .path, .problems
     │    └── SshKeyError        an SSH public key file that cannot be used (keys.py)
     ├── OperationFailed         exit 1: the command ran and could not finish
     │    ├── OwnershipError     the resource group belongs to another topology
     │    └── LockHeld           another hubvpn process holds the topology (lock.py)
     └── Interrupted             exit 130: Ctrl-C, with what the user should know

Errors from elsewhere cross the same boundary: azure-core's ``HttpResponseError``
(exit 1, shown as ``code: message``), the target's and the emulator's settings
errors (exit 2) and ``KeyboardInterrupt`` (exit 130).
"""

from __future__ import annotations

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class HubvpnError(Exception):
    exit_code = EXIT_FAILED


class BadInput(HubvpnError):
    exit_code = EXIT_BAD_INPUT


class OperationFailed(HubvpnError):
    exit_code = EXIT_FAILED


class OwnershipError(OperationFailed):
    """The resource group exists but is not this topology's."""


class Interrupted(HubvpnError):
    exit_code = EXIT_INTERRUPTED
