"""Which Azure regions have availability zones.

Source: Microsoft Learn, "Azure regions list" (learn.microsoft.com/azure/reliability/
regions-list, ms.date 09/23/2025), column "Availability zone support", by programmatic
name. Every region with zones has three (``ZONES``). A region in neither set is not
one the list names: the emulator does not guess and lets its zones through.
"""

from __future__ import annotations

ZONES = ("1", "2", "3")

WITH_ZONES = frozenset(
    {
        "australiaeast",
        "austriaeast",
        "belgiumcentral",
        "brazilsouth",
        "canadacentral",
        "centralindia",
        "centralus",
        "chilecentral",
        "denmarkeast",
        "eastasia",
        "eastus",
        "eastus2",
        "francecentral",
        "germanywestcentral",
        "indonesiacentral",
        "israelcentral",
        "italynorth",
        "japaneast",
        "japanwest",
        "koreacentral",
        "malaysiawest",
        "mexicocentral",
        "newzealandnorth",
        "northeurope",
        "norwayeast",
        "polandcentral",
        "qatarcentral",
        "southafricanorth",
        "southcentralus",
        "southeastasia",
        "spaincentral",
        "swedencentral",
        "switzerlandnorth",
        "uaenorth",
        "uksouth",
        "westeurope",
        "westus2",
        "westus3",
    }
)

WITHOUT_ZONES = frozenset(
    {
        "australiacentral",
        "australiacentral2",
        "australiasoutheast",
        "brazilsoutheast",
        "canadaeast",
        "francesouth",
        "germanynorth",
        "koreasouth",
        "northcentralus",
        "norwaywest",
        "southafricawest",
        "southindia",
        "switzerlandwest",
        "uaecentral",
        "ukwest",
        "westcentralus",
        "westindia",
        "westus",
    }
)


def has_zones(location: str) -> bool | None:
    """True or False for a region the list names; None for one it does not."""
    if location in WITH_ZONES:
        return True
    if location in WITHOUT_ZONES:
        return False
    return None
