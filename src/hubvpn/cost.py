"""What the lab costs while it exists: an estimate per hour and per day, by kind.

Only four kinds bill by the hour: VPN gateways (by SKU), Bastion hosts (Standard),
public IPs (Standard, static) and VMs (by size). Prices come from the Azure Retail
Prices API (public, no authentication), cached in the state directory; offline
(``HUBVPN_PRICES=offline``, always in tests) from the table bundled with the package,
and the estimate says which::

    prices = load_prices(plan_billables(plan), state_dir())
    estimate = estimate_cost(plan_billables(plan), prices)
    for line in describe(estimate):
        print(line)

``destroy`` says what it stops paying for: ``estimate_cost`` of the billables that
exist (``billable_from_arm`` reads them from what Azure returns).
"""

from __future__ import annotations

import json
import os
import textwrap
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from hubvpn.plan import BastionSpec, GatewaySpec, Plan, PublicIpSpec, VmSpec

PRICES_ENV = "HUBVPN_PRICES"  # "offline": never ask the network
RETAIL_PRICES_URL = "https://prices.azure.com/api/retail/prices"
FETCH_TIMEOUT_S = 5.0
CACHE_FILE = "prices-cache.json"
CACHE_MAX_AGE = timedelta(days=7)
HOURS_PER_DAY = 24
MAX_PAGES = 10  # the filters below answer one page; never follow a runaway NextPageLink

BASTION_SKU = "Standard"  # what deploy creates (native client support)
PUBLIC_IP_SKU = "Standard"  # static, zone-redundant

LABELS = {
    "virtual_network_gateway": "VPN gateway",
    "bastion": "Bastion",
    "public_ip": "public IP",
    "virtual_machine": "VM",
}
FREE = (
    "VNets",
    "peerings",
    "connections",
    "local network gateways",
    "NSGs",
    "route tables",
    "NICs",
)
NOT_INCLUDED = ("data transfer", "peering traffic", "VM OS disks")


@dataclass(frozen=True)
class Billable:
    """One resource that bills by the hour."""

    kind: str  # a key of LABELS
    sku: str
    region: str
    name: str


@dataclass(frozen=True)
class Price:
    kind: str
    sku: str
    region: str
    hourly: float
    source: str  # URL the figure was read from


@dataclass(frozen=True)
class PriceTable:
    origin: str  # "bundled" | "api"
    date: str  # the table's compile date, or when the API answered (YYYY-MM-DD)
    currency: str
    prices: tuple[Price, ...]
    note: str | None = None  # e.g. why the API was not used

    def find(self, kind: str, sku: str, region: str) -> Price | None:
        """The price in that region, else (bundled table only) another region's."""
        same = [p for p in self.prices if (p.kind, p.sku) == (kind, sku)]
        for price in same:
            if price.region == region:
                return price
        return same[0] if same and self.origin == "bundled" else None


@dataclass(frozen=True)
class CostItem:
    kind: str
    sku: str
    region: str
    names: tuple[str, ...]
    unit_hourly: float | None  # None: no price known
    price_region: str | None  # where the price was read, when not ``region``
    source: str | None

    @property
    def count(self) -> int:
        return len(self.names)

    @property
    def hourly(self) -> float | None:
        return None if self.unit_hourly is None else self.unit_hourly * self.count


@dataclass(frozen=True)
class CostEstimate:
    origin: str
    date: str
    currency: str
    items: tuple[CostItem, ...]
    note: str | None = None

    @property
    def hourly(self) -> float:
        return sum(i.hourly for i in self.items if i.hourly is not None)

    @property
    def daily(self) -> float:
        return self.hourly * HOURS_PER_DAY

    @property
    def unpriced(self) -> tuple[CostItem, ...]:
        return tuple(i for i in self.items if i.unit_hourly is None)

    def to_json(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "source": self.origin,
            "date": self.date,
            "hourly": round(self.hourly, 4),
            "daily": round(self.daily, 2),
            "items": [
                {
                    "kind": i.kind,
                    "sku": i.sku,
                    "region": i.region,
                    "count": i.count,
                    "names": list(i.names),
                    "unitHourly": i.unit_hourly,
                    "hourly": None if i.hourly is None else round(i.hourly, 4),
                    "priceRegion": i.price_region,
                    "priceSource": i.source,
                }
                for i in self.items
            ],
            "noHourlyCharge": list(FREE),
            "notIncluded": list(NOT_INCLUDED),
            "note": self.note,
        }


# ------------------------------------------------------------------ what bills


def plan_billables(plan: Plan) -> tuple[Billable, ...]:
    """The plan's resources that bill by the hour, in plan order."""
    found: list[Billable] = []
    for step in plan.steps:
        spec = step.spec
        if isinstance(spec, GatewaySpec):
            found.append(Billable(step.kind, spec.sku, step.location, step.name))
        elif isinstance(spec, BastionSpec):
            found.append(Billable(step.kind, BASTION_SKU, step.location, step.name))
        elif isinstance(spec, PublicIpSpec):
            found.append(Billable(step.kind, PUBLIC_IP_SKU, step.location, step.name))
        elif isinstance(spec, VmSpec):
            found.append(Billable(step.kind, spec.size, step.location, step.name))
    return tuple(found)


_ARM_KINDS = {
    "microsoft.network/virtualnetworkgateways": "virtual_network_gateway",
    "microsoft.network/bastionhosts": "bastion",
    "microsoft.network/publicipaddresses": "public_ip",
    "microsoft.compute/virtualmachines": "virtual_machine",
}


def billable_from_arm(arm_type: str, name: str, location: str, sku: str) -> Billable | None:
    """An existing resource (its ARM type, name, location and SKU or VM size), if it
    bills by the hour: what ``destroy`` stops paying for."""
    kind = _ARM_KINDS.get(arm_type.lower())
    return None if kind is None else Billable(kind, sku, location, name)


def billable_from_model(model: Any) -> Billable | None:
    """An SDK model as Azure returned it (``.type``, ``.name``, ``.location`` and
    ``.sku.name`` or, for a VM, ``.hardware_profile.vm_size``), if it bills by the hour."""
    profile = getattr(model, "hardware_profile", None)
    sku = getattr(profile, "vm_size", None) or getattr(getattr(model, "sku", None), "name", None)
    return billable_from_arm(
        str(getattr(model, "type", "")),
        str(getattr(model, "name", "")),
        str(getattr(model, "location", "")),
        str(getattr(sku, "value", sku) or ""),
    )


# ------------------------------------------------------------------ estimate


def estimate_cost(billables: Iterable[Billable], prices: PriceTable) -> CostEstimate:
    groups: dict[tuple[str, str, str], list[str]] = {}
    for b in billables:
        groups.setdefault((b.kind, b.sku, b.region), []).append(b.name)
    items = []
    order = list(LABELS)
    for (kind, sku, region), names in sorted(
        groups.items(), key=lambda g: (order.index(g[0][0]) if g[0][0] in order else 99, g[0])
    ):
        price = prices.find(kind, sku, region)
        items.append(
            CostItem(
                kind,
                sku,
                region,
                tuple(names),
                None if price is None else price.hourly,
                None if price is None or price.region == region else price.region,
                None if price is None else price.source,
            )
        )
    return CostEstimate(prices.origin, prices.date, prices.currency, tuple(items), prices.note)


def describe(estimate: CostEstimate, title: str = "Estimated cost") -> list[str]:
    """Plain lines (at most 80 columns) for the console to print."""
    money = "$" if estimate.currency == "USD" else f"{estimate.currency} "
    lines = [
        f"{title}: {money}{estimate.hourly:.2f}/hour, {money}{estimate.daily:.2f}/day"
        + (" (without the items that have no price)" if estimate.unpriced else ""),
        _source_line(estimate),
    ]
    if estimate.note:
        lines.append(f"  {estimate.note}")
    lines.append(f"  {'':<22} {'region':<14} {'n':>2}   {'each/h':>8}  {'hourly':>9} {'daily':>9}")
    for item in estimate.items:
        label = f"{LABELS.get(item.kind, item.kind)} {item.sku}"
        row = f"  {label:<22} {item.region:<14} {item.count:>2} x "
        if item.unit_hourly is None or item.hourly is None:
            lines.append(row + "no price")
            continue
        mark = "*" if item.price_region else " "
        lines.append(
            row + f"{item.unit_hourly:>8.4f}{mark} {item.hourly:>9.3f}"
            f" {item.hourly * HOURS_PER_DAY:>9.2f}"
        )
    borrowed = sorted({i.price_region for i in estimate.items if i.price_region})
    if borrowed:
        lines.append(f"  * the table's price for {', '.join(borrowed)} (none for this region)")
    lines += textwrap.wrap(
        f"No hourly charge: {', '.join(FREE)}.", 80, initial_indent="  ", subsequent_indent="    "
    )
    lines.append(f"  Not included: {', '.join(NOT_INCLUDED)}.")
    return lines


def stops_paying(estimate: CostEstimate) -> list[str]:
    """What deleting the billables of ``estimate`` saves, for ``destroy`` (80 columns)."""
    if not estimate.items:
        return ["Nothing in it billed by the hour."]
    counts: dict[str, int] = {}
    for item in estimate.items:
        label = LABELS.get(item.kind, item.kind)
        counts[label] = counts.get(label, 0) + item.count
    # Each "4 public IPs" stays on one line: wrap with its spaces held (U+00A0).
    what = ", ".join(
        f"{n} {label}{'s' if n > 1 else ''}".replace(" ", "\u00a0") for label, n in counts.items()
    )
    money = "$" if estimate.currency == "USD" else f"{estimate.currency} "
    text = (
        f"Stops paying about {money}{estimate.hourly:.2f}/hour ({money}{estimate.daily:.2f}/day)"
        f" for {what}."
    )
    return [line.replace("\u00a0", " ") for line in textwrap.wrap(text, 80)]


def _source_line(estimate: CostEstimate) -> str:
    if estimate.origin == "bundled":
        return f"  prices: bundled table of {estimate.date}, {estimate.currency}"
    return f"  prices: Azure Retail Prices API, fetched {estimate.date}, {estimate.currency}"


# ------------------------------------------------------------------ prices


def bundled_prices(note: str | None = None) -> PriceTable:
    raw = json.loads(resources.files("hubvpn").joinpath("prices.json").read_text("utf-8"))
    prices = tuple(
        Price(p["kind"], p["sku"], p["region"], float(p["hourly"]), p["source"])
        for p in raw["prices"]
    )
    return PriceTable("bundled", raw["compiled"], raw["currency"], prices, note)


Fetch = Callable[[str], dict[str, Any]]


def _fetch_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_S) as response:
        body: dict[str, Any] = json.load(response)
        return body


def retail_filter(b: Billable) -> str:
    """The ``$filter`` that finds the hourly pay-as-you-go meter of a billable."""
    common = f"armRegionName eq '{b.region}' and priceType eq 'Consumption'"
    if b.kind == "virtual_network_gateway":
        return f"serviceName eq 'VPN Gateway' and skuName eq '{b.sku}' and {common}"
    if b.kind == "bastion":
        return f"serviceName eq 'Azure Bastion' and skuName eq '{b.sku}' and {common}"
    if b.kind == "public_ip":
        return (
            "serviceName eq 'Virtual Network' and productName eq 'IP Addresses'"
            f" and skuName eq '{b.sku}' and {common}"
        )
    return f"serviceName eq 'Virtual Machines' and armSkuName eq '{b.sku}' and {common}"


def hourly_meter(kind: str, items: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """The one hourly meter that prices the resource, among a filter's answer items."""
    hourly = [i for i in items if i.get("unitOfMeasure") == "1 Hour"]
    if kind == "public_ip":
        hourly = [
            i for i in hourly if "Static" in i.get("meterName", "") and "IPv6" not in i["meterName"]
        ]
    elif kind == "virtual_network_gateway":
        # The gateway's own meter; tunnels and P2S connections have meters of their own.
        hourly = [
            i
            for i in hourly
            if not any(w in i.get("meterName", "") for w in ("Connection", "Tunnel", "P2S"))
        ]
    elif kind == "virtual_machine":
        hourly = [
            i
            for i in hourly
            if "Windows" not in i.get("productName", "")
            and not any(w in i.get("skuName", "") for w in ("Spot", "Low Priority"))
        ]
    hourly = [i for i in hourly if i.get("isPrimaryMeterRegion", True)]
    return min(hourly, key=lambda i: float(i["retailPrice"])) if hourly else None


def fetch_prices(billables: Iterable[Billable], fetch: Fetch = _fetch_json) -> tuple[Price, ...]:
    """Ask the Retail Prices API for each (kind, SKU, region), following NextPageLink."""
    found: list[Price] = []
    wanted = {(b.kind, b.sku, b.region): b for b in billables}
    for (kind, sku, region), b in wanted.items():
        url: str | None = (
            RETAIL_PRICES_URL + "?" + urllib.parse.urlencode({"$filter": retail_filter(b)})
        )
        items: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            if url is None:
                break
            page = fetch(url)
            items.extend(page.get("Items", []))
            url = page.get("NextPageLink")
        meter = hourly_meter(kind, items)
        if meter is not None:
            found.append(Price(kind, sku, region, float(meter["retailPrice"]), RETAIL_PRICES_URL))
    return tuple(found)


def load_prices(
    billables: Iterable[Billable],
    state: Path,
    fetch: Fetch = _fetch_json,
    now: datetime | None = None,
) -> PriceTable:
    """API prices (cached a week in the state directory), else the bundled table."""
    wanted = tuple(billables)
    if os.environ.get(PRICES_ENV, "").lower() == "offline":
        return bundled_prices()
    now = now or datetime.now(UTC)
    keys = {(b.kind, b.sku, b.region) for b in wanted}
    cached = _read_cache(state / CACHE_FILE, now)
    if cached is not None and keys <= cached[1]:
        return cached[0]
    try:
        fetched = fetch_prices(wanted, fetch)
    except (OSError, ValueError, KeyError) as err:
        # OSError covers URLError and timeouts; ValueError a body that is not JSON.
        return bundled_prices(f"Retail Prices API not used ({type(err).__name__})")
    table = PriceTable("api", now.date().isoformat(), "USD", fetched)
    _write_cache(state / CACHE_FILE, table, keys, now)
    return table


Key = tuple[str, str, str]  # (kind, sku, region)


def _read_cache(path: Path, now: datetime) -> tuple[PriceTable, set[Key]] | None:
    """The cached table and the keys it answers (with or without a price)."""
    try:
        raw = json.loads(path.read_text("utf-8"))
        fetched = datetime.fromisoformat(raw["fetched"])
        prices = tuple(Price(**p) for p in raw["prices"])
        asked = {(str(k), str(s), str(r)) for k, s, r in raw["asked"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if now - fetched > CACHE_MAX_AGE:
        return None
    table = PriceTable("api", fetched.date().isoformat(), raw.get("currency", "USD"), prices)
    return table, asked


def _write_cache(path: Path, table: PriceTable, asked: set[Key], now: datetime) -> None:
    body = {
        "fetched": now.isoformat(),
        "currency": table.currency,
        "asked": sorted(asked),
        "prices": [asdict(p) for p in table.prices],
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(body, indent=1), "utf-8")
    except OSError:
        pass  # a read-only state directory only costs a refetch next time
