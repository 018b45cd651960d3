"""ARM's request limits: token buckets per subscription, on the emulator's clock.

Since 2024 Azure Resource Manager throttles with token buckets per subscription
(learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling,
"Regional throttling and token bucket algorithm"): reads hold 250 tokens and
refill 25 per second; writes and deletes hold 200 and refill 10 per second.
Every request takes one token from its bucket and the response says how many
remain (``x-ms-ratelimit-remaining-subscription-reads``/``-writes``/``-deletes``,
as the recordings show); an empty bucket answers 429 with Retry-After.

Buckets live in the store (all processes share the subscription's budget) and
refill in Azure seconds: at speed 180 a wall second refills 180 × 25 reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from hubvpn.emulator import errors
from hubvpn.emulator.arm import Settings
from hubvpn.emulator.store import Tx


@dataclass(frozen=True)
class Bucket:
    name: str  # reads, writes, deletes: the header's last word
    size: float
    refill_per_s: float  # tokens per Azure second


BUCKETS = {
    "reads": Bucket("reads", 250.0, 25.0),
    "writes": Bucket("writes", 200.0, 10.0),
    "deletes": Bucket("deletes", 200.0, 10.0),
}


def bucket_of(method: str) -> Bucket:
    """GET and HEAD read; DELETE deletes; PUT, PATCH and POST (actions) write."""
    if method in ("GET", "HEAD"):
        return BUCKETS["reads"]
    if method == "DELETE":
        return BUCKETS["deletes"]
    return BUCKETS["writes"]


def take(tx: Tx, settings: Settings, subscription: str, method: str) -> dict[str, str]:
    """Take one token for a request; its header, or ``SubscriptionRequestsThrottled``."""
    bucket = bucket_of(method)
    key = f"{subscription.lower()}/{bucket.name}"
    stored = tx.get_bucket(key)
    tokens = bucket.size
    if stored is not None:
        level, at = stored
        refilled = max(0.0, tx.now - at) * settings.speed * bucket.refill_per_s
        tokens = min(bucket.size, level + refilled)
    if tokens < 1.0:
        tx.put_bucket(key, tokens, tx.now)
        wait_s = settings.wall_s((1.0 - tokens) / bucket.refill_per_s)
        raise errors.SubscriptionRequestsThrottled(subscription, bucket.name, wait_s)
    tokens -= 1.0
    tx.put_bucket(key, tokens, tx.now)
    return {f"x-ms-ratelimit-remaining-subscription-{bucket.name}": str(int(tokens))}
