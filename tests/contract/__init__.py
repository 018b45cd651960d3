"""Contract tests: raw HTTP against ``hubvpn emulator serve`` (see conftest.py)."""
