"""Microsoft.Network/networkSecurityGroups with Azure's default rules."""

from __future__ import annotations

from hubvpn.emulator import errors
from hubvpn.emulator.arm import (
    Body,
    Kind,
    ResourceId,
    World,
    body_copy,
    expect_type,
)
from hubvpn.emulator.resources.common import props_of
from hubvpn.emulator.resources.references import subnets_using
from hubvpn.emulator.store import Record
from hubvpn.emulator.types import (
    NSG,
)


def default_security_rules(nsg_id: str) -> list[Body]:
    def rule(
        name: str,
        direction: str,
        priority: int,
        source: str,
        dest: str,
        access: str,
        description: str,
    ) -> Body:
        return {
            "name": name,
            "id": f"{nsg_id}/defaultSecurityRules/{name}",
            "type": "Microsoft.Network/networkSecurityGroups/defaultSecurityRules",
            "properties": {
                "description": description,
                "protocol": "*",
                "sourcePortRange": "*",
                "destinationPortRange": "*",
                "sourceAddressPrefix": source,
                "destinationAddressPrefix": dest,
                "access": access,
                "priority": priority,
                "direction": direction,
                "provisioningState": "Succeeded",
            },
        }

    return [
        rule(
            "AllowVnetInBound",
            "Inbound",
            65000,
            "VirtualNetwork",
            "VirtualNetwork",
            "Allow",
            "Allow inbound traffic from all VMs in VNET",
        ),
        rule(
            "AllowAzureLoadBalancerInBound",
            "Inbound",
            65001,
            "AzureLoadBalancer",
            "*",
            "Allow",
            "Allow inbound traffic from azure load balancer",
        ),
        rule("DenyAllInBound", "Inbound", 65500, "*", "*", "Deny", "Deny all inbound traffic"),
        rule(
            "AllowVnetOutBound",
            "Outbound",
            65000,
            "VirtualNetwork",
            "VirtualNetwork",
            "Allow",
            "Allow outbound traffic from all VMs to all VMs in VNET",
        ),
        rule(
            "AllowInternetOutBound",
            "Outbound",
            65001,
            "*",
            "Internet",
            "Allow",
            "Allow outbound traffic from all VMs to Internet",
        ),
        rule("DenyAllOutBound", "Outbound", 65500, "*", "*", "Deny", "Deny all outbound traffic"),
    ]


class NetworkSecurityGroup(Kind):
    type = NSG
    put_hint_s = 3.0  # as recorded (tests/recorded/)

    def validate(self, w: World, rid: ResourceId, body: Body, old: Record | None) -> Body:
        props = props_of(body, self.type)
        rules = expect_type(props.get("securityRules", []), list, "properties.securityRules") or []
        priorities: set[tuple[str, int]] = set()
        for i, r in enumerate(rules):
            expect_type(r, dict, f"properties.securityRules[{i}]")
            if not isinstance(r.get("name"), str) or not r["name"]:
                raise errors.InvalidRequestBody(
                    f"Security rule {i} needs a name.", target=f"properties.securityRules[{i}].name"
                )
            rp = expect_type(r.get("properties", {}), dict, f"properties.securityRules[{i}]") or {}
            prio = expect_type(rp.get("priority"), int, f"properties.securityRules[{i}].priority")
            if prio is None or not 100 <= prio <= 4096:
                raise errors.InvalidRequestBody(
                    f"Security rule {r.get('name')} has invalid priority {prio}: 100..4096."
                )
            direction = rp.get("direction")
            if direction not in ("Inbound", "Outbound"):
                raise errors.InvalidRequestBody(f"Security rule {r.get('name')} direction invalid.")
            if (direction, prio) in priorities:
                raise errors.InvalidRequestBody(
                    f"Security rule {r.get('name')} has the same priority and direction as "
                    "another rule."
                )
            priorities.add((direction, prio))
        keep = {
            k: v
            for k, v in props.items()
            if k
            not in (
                "defaultSecurityRules",
                "provisioningState",
                "resourceGuid",
                "subnets",
                "networkInterfaces",
            )
        }
        keep["securityRules"] = rules
        return {"properties": keep}

    def render(self, w: World, rec: Record) -> Body:
        out = body_copy(rec)
        props = out["properties"]
        props["resourceGuid"] = rec["guid"]
        props["securityRules"] = [
            {
                **rule,
                "id": f"{rec['id']}/securityRules/{rule['name']}",
                "type": "Microsoft.Network/networkSecurityGroups/securityRules",
                "properties": {**rule.get("properties", {}), "provisioningState": "Succeeded"},
            }
            for rule in props.get("securityRules", [])
        ]
        props["defaultSecurityRules"] = default_security_rules(rec["id"])
        for rule in props["defaultSecurityRules"]:  # as recorded (NSG suite, tests/recorded/)
            rule["etag"] = rec["etag"]
            for field in (
                "sourcePortRanges",
                "destinationPortRanges",
                "sourceAddressPrefixes",
                "destinationAddressPrefixes",
            ):
                rule["properties"].setdefault(field, [])
        users = subnets_using(w, "networkSecurityGroup", rec["id"])
        if users:
            props["subnets"] = [{"id": s} for s in users]
        return out

    def check_delete(self, w: World, rec: Record) -> None:
        users = subnets_using(w, "networkSecurityGroup", rec["id"])
        if users:
            raise errors.InUseNetworkSecurityGroupCannotBeDeleted(rec["id"], users[0])
