"""Secrets: the VMs' SSH key and the pre-shared key's source.

The SSH public key comes from ``[vm].ssh_public_key_file``; when that file does
not exist a key pair is generated once into the state directory (private key
0600) and reused. Private keys and pre-shared keys are never printed or logged.
"""

from __future__ import annotations

import os
from pathlib import Path

from hubvpn.errors import BadInput

SHARED_KEY_ENV = "HUBVPN_SHARED_KEY"
GENERATED_KEY = "id_ed25519_hubvpn"


class SshKeyError(BadInput):
    """An SSH key file that exists but cannot be used."""


def shared_key_from_env() -> str | None:
    value = os.environ.get(SHARED_KEY_ENV)
    return value or None


def ssh_public_key(configured: str, state_dir: Path) -> tuple[str, Path | None]:
    """(public key, path of the generated key pair when the configured file is absent)."""
    path = Path(configured).expanduser()
    try:
        return _read_or_generate(path, state_dir)
    except OSError as err:
        raise SshKeyError(f"{err.filename or path}: {err.strerror or err}") from None


def _read_or_generate(path: Path, state_dir: Path) -> tuple[str, Path | None]:
    if path.is_file():
        key = path.read_text(encoding="utf-8").strip()
        if not key.startswith(("ssh-rsa ", "ssh-ed25519 ", "ecdsa-sha2-")):
            raise SshKeyError(f"{path} is not an OpenSSH public key (ssh-ed25519/ssh-rsa ...)")
        return key, None
    private = state_dir / "ssh" / GENERATED_KEY
    public = private.with_suffix(".pub")
    if not public.is_file():
        _generate(private, public)
    return public.read_text(encoding="utf-8").strip(), private


def _generate(private: Path, public: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(private.parent, 0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    openssh = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    public.write_bytes(openssh + b" hubvpn\n")
