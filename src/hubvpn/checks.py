"""Reading a parsed TOML document and collecting every problem at once, each naming
its key path (``hubs[1].spokes[0].address_space``), so that one run shows them all::

    c = Checker()
    c.keys(data, "", ["name", "vm?"])      # unknown keys (with a close match) and missing ones
    name = c.string(data, "", "name")      # None when absent, or not a string (a problem)
    c.check_unique([("hubs[0].asn", "65150"), ("hubs[1].asn", "65150")], "one ASN a hub")
    c.problems                             # [Problem("hubs[1].asn", "65150 is already ...")]

Nothing here knows Azure or the topology: ``config`` adds the topology's rules.
"""

from __future__ import annotations

import difflib
import ipaddress
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time


@dataclass(frozen=True)
class Problem:
    key: str  # key path, e.g. "hubs[1].spokes[0].address_space"; "" for the whole file
    message: str


@dataclass
class Checker:
    """Collects problems and warnings while typed values are read from TOML tables."""

    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def error(self, key: str, message: str) -> None:
        self.problems.append(Problem(key, message))

    def warn(self, key: str, message: str) -> None:
        self.warnings.append(f"{key}: {message}")

    def keys(self, table: Mapping[str, object], path: str, schema: list[str]) -> None:
        allowed = [key.rstrip("?") for key in schema]
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.8)
                hint = f"did you mean {close[0]!r}? " if close else ""
                self.error(join(path, key), f"unknown key; {hint}allowed: {', '.join(allowed)}")
        for key in schema:
            if not key.endswith("?") and key not in table:
                self.error(join(path, key), "missing required key")

    def match(self, pattern: re.Pattern[str], value: str, key: str, rule: str) -> bool:
        if pattern.fullmatch(value):
            return True
        self.error(key, f"{value!r} is not valid: {rule}")
        return False

    def _typed(self, table: Mapping[str, object], path: str, key: str, kind: type) -> object:
        value = table.get(key)  # None: absent (TOML has no null)
        if value is None or (isinstance(value, kind) and (kind is bool) == (type(value) is bool)):
            return value
        article = "an" if kind is int else "a"
        self.error(
            join(path, key), f"expected {article} {_TYPE_WORDS[kind]}, got {describe(value)}"
        )
        return None

    def string(self, table: Mapping[str, object], path: str, key: str) -> str | None:
        value = self._typed(table, path, key, str)
        return value if isinstance(value, str) else None

    def integer(self, table: Mapping[str, object], path: str, key: str) -> int | None:
        value = self._typed(table, path, key, int)
        return value if isinstance(value, int) else None

    def boolean(self, table: Mapping[str, object], path: str, key: str) -> bool | None:
        value = self._typed(table, path, key, bool)
        return value if isinstance(value, bool) else None

    def table(self, table: Mapping[str, object], path: str, key: str) -> dict[str, object] | None:
        value = self._typed(table, path, key, dict)
        return value if isinstance(value, dict) else None

    def array_of_tables(
        self, table: Mapping[str, object], path: str, key: str, syntax: str
    ) -> list[dict[str, object] | None] | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, list):
            self.error(
                join(path, key), f"expected an array of tables ({syntax}), got {describe(value)}"
            )
            return None
        items = enumerate(value)
        return [self.table({str(i): v}, join(path, key), str(i)) for i, v in items]

    def cidr(
        self, table: Mapping[str, object], path: str, key: str
    ) -> ipaddress.IPv4Network | None:
        text = self.string(table, path, key)
        if text is None:
            return None
        key = join(path, key)
        if "/" not in text:
            self.error(key, f"{text!r} has no prefix length; expected a CIDR, e.g. 10.0.0.0/16")
            return None
        try:
            return ipaddress.IPv4Network(text)
        except ValueError:
            pass
        try:
            loose = ipaddress.ip_network(text, strict=False)
        except ValueError:
            self.error(key, f"{text!r} is not an IPv4 CIDR; expected e.g. 10.0.0.0/16")
            return None
        if loose.version == 6:
            self.error(key, f"{text!r} is IPv6; only IPv4 CIDRs are supported")
        else:
            self.error(key, f"{text!r} has host bits set; did you mean '{loose}'?")
        return None

    def check_overlaps(self, named: list[tuple[str, ipaddress.IPv4Network]], why: str) -> None:
        for (key_a, a), (key_b, b) in itertools.combinations(named, 2):
            if a.overlaps(b):
                self.error(key_b, f"{b} overlaps {a} ({key_a}); {why}")

    def check_unique(self, named: list[tuple[str, str]], why: str) -> None:
        """named: (key path, value as shown); values compare case-insensitively."""
        first: dict[str, tuple[str, str]] = {}
        for key, value in named:
            if value.lower() not in first:
                first[value.lower()] = (key, value)
                continue
            other_key, other = first[value.lower()]
            shown = other_key if other == value else f"{other_key} ({other})"
            self.error(key, f"{value} is already used by {shown}; {why}")


_TYPE_WORDS: dict[type, str] = {str: "string", int: "integer", bool: "boolean", dict: "table"}


def describe(value: object) -> str:
    """A TOML value as a user would call it: "string '65150'", "boolean true", "table"."""
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, int | float):
        return f"{'integer' if isinstance(value, int) else 'float'} {value}"
    if isinstance(value, datetime | date | time):
        return type(value).__name__
    return "table" if isinstance(value, dict) else "array"


def join(path: str, key: str) -> str:
    if not path:
        return key
    return f"{path}[{key}]" if key.isdigit() else f"{path}.{key}"
