"""Azure Resource Manager errors, one class per ARM error code.

Each class name is the code Azure returns; its message is fixed in ``__init__``
(as moto does), so a test reads like the Azure behaviour it pins::

    raise RemoteVnetHasNoGateways(peering_id, vnet_id)

    ArmError                      {"error": {"code", "message", "target", "details"}}
     ├─ 400 BadRequest family     validation of a request body or of references
     ├─ 404 ResourceNotFound, ResourceGroupNotFound, ...
     ├─ 409 AnotherOperationInProgress, ResourceGroupBeingDeleted, ...
     ├─ 412 PreconditionFailed    etag / If-Match
     ├─ 429 TooManyRequests > SubscriptionRequestsThrottled   injected; token bucket empty
     └─ 5xx                       injected faults (server errors)

Where no public source gives Azure's code (see azure-facts.md), the class
says so in its docstring and the message states the rule explicitly.
"""

from __future__ import annotations

from typing import Any


class ArmError(Exception):
    """An error answered with ARM's envelope. ``code`` is the wire code: the class
    name unless the class sets another (set for every subclass when it is defined)."""

    status = 400
    code = "BadRequest"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in cls.__dict__:
            cls.code = cls.__name__

    def __init__(self, message: str, *, target: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.target = target

    def envelope(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "target": self.target,
                "details": [],
            }
        }


def _short(resource_id: str) -> str:
    parts = resource_id.strip("/").split("/")
    return f"{parts[-2]}/{parts[-1]}" if len(parts) >= 2 else resource_id


# ----------------------------------------------------------------- protocol


class MissingApiVersionParameter(ArmError):
    def __init__(self) -> None:
        super().__init__(
            "The api-version query parameter (?api-version=) is required for all requests."
        )


class InvalidApiVersionParameter(ArmError):
    def __init__(self, value: str) -> None:
        super().__init__(
            f"The api-version '{value}' is invalid. The supported versions are dates "
            "in the form 'yyyy-mm-dd' with an optional '-preview' suffix."
        )


class InvalidRequestContent(ArmError):
    def __init__(self, detail: str) -> None:
        super().__init__(f"The request content was invalid and could not be deserialized: {detail}")


class InvalidRequestFormat(ArmError):
    def __init__(self, detail: str) -> None:
        super().__init__(f"Cannot parse the request. {detail}")


class InvalidResourceType(ArmError):
    status = 404

    def __init__(self, namespace: str, resource_type: str) -> None:
        super().__init__(
            f"The resource type '{resource_type}' could not be found in the namespace "
            f"'{namespace}' for api version."
        )


class NoRegisteredProviderFound(ArmError):
    """400 as observed on Azure (for a namespace Azure does not know at all, ARM
    answers 400 InvalidResourceNamespace; the emulator cannot tell the two apart)."""

    def __init__(self, namespace: str) -> None:
        super().__init__(f"No registered resource provider found for namespace '{namespace}'.")


class MethodNotAllowed(ArmError):
    status = 405

    def __init__(self, method: str) -> None:
        super().__init__(f"The requested resource does not support http method '{method}'.")


class PreconditionFailed(ArmError):
    status = 412

    def __init__(self) -> None:
        super().__init__("The condition specified using HTTP conditional header(s) is not met.")


class InvalidResourceName(ArmError):
    def __init__(self, name: str, kind: str) -> None:
        super().__init__(
            f"Resource name {name} is invalid. The name can be up to 80 characters long. It must "
            "begin with a word character, and it must end with a word character or with '_'. "
            f"The name may contain word characters or '.', '-', '_'. ({kind})"
        )


class InvalidResourceLocation(ArmError):
    """A PUT may not move an existing resource to another region (observed: 409)."""

    status = 409

    def __init__(self, name: str, group: str, old: str, new: str) -> None:
        super().__init__(
            f"The resource '{name}' already exists in location '{old}' in resource group "
            f"'{group}'. A resource with the same name cannot be created in location '{new}'. "
            "Please select a new resource name."
        )


class InvalidResourceGroupLocation(ArmError):
    status = 409

    def __init__(self, location: str, existing: str) -> None:
        super().__init__(
            f"Invalid resource group location '{location}'. The Resource group already exists "
            f"in location '{existing}'."
        )


class LocationRequired(ArmError):
    def __init__(self) -> None:
        super().__init__("The location property is required for this definition.")


class InvalidRequestBody(ArmError):
    """A field has the wrong type or an invalid value (ARM: InvalidRequestFormat family)."""

    code = "InvalidRequestFormat"


class PropertyChangeNotAllowed(ArmError):
    def __init__(self, prop: str) -> None:
        super().__init__(f"Changing property '{prop}' is not allowed.")


# ------------------------------------------------------------------ lookups


class ResourceNotFound(ArmError):
    status = 404

    def __init__(self, resource_type: str, name: str, group: str) -> None:
        super().__init__(
            f"The Resource '{resource_type}/{name}' under resource group '{group}' was not found."
        )


class NotFound(ArmError):
    """A child resource (subnet, peering, extension) or an operation that does not exist."""

    status = 404

    def __init__(self, resource_id: str, *, what: str = "Resource") -> None:
        super().__init__(f"{what} {resource_id} not found.")


class ResourceGroupNotFound(ArmError):
    status = 404

    def __init__(self, group: str) -> None:
        super().__init__(f"Resource group '{group}' could not be found.")


class InvalidResourceReference(ArmError):
    def __init__(self, referenced: str, by: str) -> None:
        super().__init__(f"Resource {referenced} referenced by resource {by} was not found.")


class ReferencedResourceNotProvisioned(ArmError):
    def __init__(self, referenced: str, by: str, state: str, resource_type: str) -> None:
        kind = resource_type.rsplit("/", 1)[-1]
        operation = f"Put{kind[0].upper()}{kind[1:].removesuffix('s')}Operation"
        super().__init__(
            f"Cannot proceed with operation because resource {referenced} used by resource "
            f"{by} is not in Succeeded state. Resource is in {state} state and the last "
            f"operation that updated/is updating the resource is {operation}."
        )


# ----------------------------------------------------------------- conflicts


class AnotherOperationInProgress(ArmError):
    status = 409

    def __init__(self, resource_id: str) -> None:
        super().__init__(
            f"Another operation on this or dependent resource is in progress. To retrieve status "
            f"of the operation use uri: {resource_id}. Retry the operation after it completes."
        )


class ResourceGroupBeingDeleted(ArmError):
    status = 409

    def __init__(self, group: str) -> None:
        super().__init__(
            f"The resource group '{group}' is in deprovisioning state and cannot perform this "
            "operation."
        )


class InUseSubnetCannotBeDeleted(ArmError):
    def __init__(self, subnet_id: str, user_id: str) -> None:
        super().__init__(
            f"Subnet {_short(subnet_id)} is in use by {user_id} and cannot be deleted. In order "
            "to delete the subnet, delete all the resources within the subnet."
        )


class PublicIPAddressCannotBeDeleted(ArmError):
    def __init__(self, ip_id: str, user_id: str) -> None:
        super().__init__(
            f"Public IP address {ip_id} can not be deleted since it is still allocated to "
            f"resource {user_id}. In order to delete the public IP, disassociate/detach the "
            "Public IP address from the resource."
        )


class InUseNetworkSecurityGroupCannotBeDeleted(ArmError):
    def __init__(self, nsg_id: str, user_id: str) -> None:
        super().__init__(
            f"Network security group {nsg_id} cannot be deleted because it is in use by the "
            f"following resources: {user_id}."
        )


class InUseRouteTableCannotBeDeleted(ArmError):
    def __init__(self, table_id: str, user_id: str) -> None:
        super().__init__(
            f"Route table {table_id} is in use by {user_id} and cannot be deleted. Disassociate "
            "it from the subnets first."
        )


class NicInUse(ArmError):
    """A NIC that a VM holds: it can be neither deleted nor given to another VM."""

    def __init__(
        self, nic_id: str, vm_id: str, *, to: str = "delete the network interface"
    ) -> None:
        super().__init__(
            f"Network Interface {nic_id} is used by existing resource {vm_id}. In order to {to}, "
            "it must be dissociated from the resource."
        )


class InUseLocalNetworkGatewayCannotBeDeleted(ArmError):
    """No public source gives this code; the rule (a connection uses it) is Azure's."""

    def __init__(self, lng_id: str, user_id: str) -> None:
        super().__init__(
            f"Local network gateway {lng_id} cannot be deleted because it is used by connection "
            f"{user_id}. Delete the connection first."
        )


class InUseVirtualNetworkGatewayCannotBeDeleted(ArmError):
    """No public source gives this code; the rule (a connection uses it) is Azure's."""

    def __init__(self, gw_id: str, user_id: str) -> None:
        super().__init__(
            f"Virtual network gateway {gw_id} cannot be deleted because it is used by "
            f"connection {user_id}. Delete the connection first."
        )


class NetworkWatcherCountLimitReached(ArmError):
    """Wording as Azure answers it (azure-facts.md, "As recorded")."""

    def __init__(self) -> None:
        super().__init__(
            "Cannot create more than 1 network watchers for this subscription in this region."
        )


# -------------------------------------------------------------- networking


class VnetAddressSpacesOverlap(ArmError):
    def __init__(self, vnet: str, remote: str, prefix: str) -> None:
        super().__init__(
            f"Cannot create or update peering {vnet}. Virtual networks {vnet} and {remote} cannot "
            f"be peered because their address spaces overlap. Overlapping address prefixes: "
            f"{prefix}"
        )


class VnetAddressSpaceOverlapsWithAlreadyPeeredVnet(ArmError):
    def __init__(self, vnet: str, prefix: str, peered: str) -> None:
        super().__init__(
            f"Address space {prefix} of virtual network {vnet} overlaps with the address space "
            f"of already peered virtual network {peered}."
        )


class RemoteVnetHasNoGateways(ArmError):
    def __init__(self, peering_id: str, vnet_id: str) -> None:
        super().__init__(
            f"Peering {peering_id} cannot have UseRemoteGateway flag set to true because remote "
            f"virtual network {vnet_id} referenced by the peering does not have any gateways."
        )


class RemotePeeringDoesNotAllowGatewayTransit(ArmError):
    """Message observed on Azure; the code is not published, so this name is ours."""

    def __init__(self, peering_id: str) -> None:
        super().__init__(
            f"Peering {peering_id} cannot have UseRemoteGateways flag set to true, because "
            "corresponding remote peering has AllowGatewayTransit flag set to false."
        )


class PeeringWithUseRemoteGatewaysAndLocalGateway(ArmError):
    """A VNet with its own gateway cannot use a remote one (Azure rule; code is ours)."""

    def __init__(self, peering_id: str) -> None:
        super().__init__(
            f"Peering {peering_id} cannot have UseRemoteGateways flag set to true because the "
            "local virtual network already has a gateway."
        )


class NetcfgInvalidSubnet(ArmError):
    def __init__(self, subnet: str, prefix: str, vnet_prefixes: str) -> None:
        super().__init__(
            f"Subnet '{subnet}' is not valid because its IP address range {prefix} is outside "
            f"the IP address range of virtual network ({vnet_prefixes})."
        )


class NetcfgInvalidSubnetPrefix(ArmError):
    def __init__(self, prefix: str) -> None:
        super().__init__(f"Subnet address prefix {prefix} is not a valid CIDR (network/length).")


class NetcfgInvalidAddressPrefix(ArmError):
    def __init__(self, prefix: str) -> None:
        super().__init__(f"Address prefix {prefix} is not a valid IPv4 CIDR (network/length).")


class NetcfgSubnetRangesOverlap(ArmError):
    def __init__(self, a: str, b: str) -> None:
        super().__init__(
            f"Subnet '{a}' is not valid because its IP address range overlaps with "
            f"that of an existing subnet '{b}' in virtual network."
        )


class GatewaySubnet(ArmError):
    def __init__(self) -> None:
        super().__init__(
            "Subnet with name 'GatewaySubnet' can be used only for the Gateway resource."
        )


class VirtualNetworkGatewayMustUseGatewaySubnet(ArmError):
    """No public source gives this code; the rule is documented (name exactly GatewaySubnet)."""

    def __init__(self, subnet_id: str) -> None:
        super().__init__(
            f"A virtual network gateway must be deployed to a subnet named exactly "
            f"'GatewaySubnet'; {subnet_id} is not."
        )


class GatewaySubnetTooSmall(ArmError):
    """No public source gives this code; the /29 minimum is documented."""

    def __init__(self, prefix: str) -> None:
        super().__init__(
            f"GatewaySubnet {prefix} is too small: a VPN gateway needs a GatewaySubnet of /29 "
            "or larger (/27 or larger recommended)."
        )


class PublicIpWithBasicSkuNotAllowedOnVPNGateways(ArmError):
    def __init__(self, ip_id: str) -> None:
        super().__init__(
            f"Basic IP configuration for VPN Virtual Network Gateways is not supported. "
            f"Public IP {ip_id} has Basic SKU; use a Standard SKU public IP."
        )


class VmssVpnGatewayPublicIpsMustHaveZonesConfigured(ArmError):
    def __init__(self, ip_id: str, sku: str) -> None:
        super().__init__(
            f"Public IP {ip_id} used by a {sku} virtual network gateway must have zones "
            "configured (zonal or zone-redundant)."
        )


class LocationNotSupportAvailabilityZones(ArmError):
    """Zones asked for in a region without them. Code and wording as Azure answered
    (aztfmod/terraform-azurerm-caf#1744, Azure/ALZ-Bicep#981, both for ukwest)."""

    def __init__(self, resource_type: str, name: str, location: str) -> None:
        super().__init__(
            f"The resource '{resource_type}/{name}' does not support availability zones at "
            f"location '{location}'."
        )


class InvalidAvailabilityZone(ArmError):
    """A zone the region does not have. Code and wording as Azure answered
    (hashicorp/terraform-provider-azurerm#6296, westeurope)."""

    def __init__(self, zone: str, resource_type: str, name: str, location: str) -> None:
        super().__init__(
            f"The zone(s) '{zone}' for resource '{resource_type}/{name}' is not supported. "
            f"The supported zones for location '{location}' are '1,2,3'"
        )


class PublicIpMustBeStatic(ArmError):
    """A Standard public IP must be Static (Azure rule; code is ours)."""

    def __init__(self, ip_id: str) -> None:
        super().__init__(f"Standard SKU public IP {ip_id} must use Static allocation.")


class InvalidGatewaySize(ArmError):
    def __init__(self, sku: str, allowed: str) -> None:
        super().__init__(
            f"The gateway size '{sku}' is invalid for a VPN gateway. Allowed sizes: {allowed}."
        )


class VirtualNetworkGatewaySkuCannotBeCreatedForSpecifiedVmGeneration(ArmError):
    """A SKU the generation does not have (about-gateway-skus). Code and wording as Azure
    answered (azure-facts.md, "As recorded")."""

    def __init__(self, sku: str, generation: str) -> None:
        super().__init__(
            f"The Virtual Network Gateway Sku {sku} cannot be used when "
            f"VirtualNetworkVpnGatewayGeneration is set to {generation}."
        )


class NonAzVpnGatewaySkuDeprecated(ArmError):
    """Since 1 Jan 2025 non-AZ VpnGw1-5 can't be created (documented; code is ours)."""

    def __init__(self, sku: str) -> None:
        super().__init__(
            f"Creating VPN gateways with the non-AZ SKU '{sku}' is no longer supported; use "
            f"'{sku}AZ'."
        )


class BasicSkuDoesNotSupportBgp(ArmError):
    def __init__(self) -> None:
        super().__init__("The Basic VPN gateway SKU does not support BGP.")


class InvalidBgpAsn(ArmError):
    """No public source gives this code; the reserved ranges are documented."""

    def __init__(self, asn: int, why: str) -> None:
        super().__init__(f"ASN {asn} cannot be used: {why}.")


class InvalidBgpPeeringAddress(ArmError):
    def __init__(self, address: str, why: str) -> None:
        super().__init__(f"BGP peering address '{address}' is invalid: {why}.")


class VpnGatewayAlreadyExistsInVnet(ArmError):
    def __init__(self, vnet_id: str, existing: str) -> None:
        super().__init__(
            f"Virtual network {vnet_id} already has a VPN gateway ({existing}); a virtual network "
            "can have only one VPN gateway."
        )


class InvalidSharedKey(ArmError):
    def __init__(self) -> None:
        super().__init__(
            "The shared key must be 1 to 128 printable ASCII characters (no spaces at ends)."
        )


class ConnectionGatewaysInDifferentRegion(ArmError):
    def __init__(self, conn: str) -> None:
        super().__init__(
            f"Connection {conn}: the virtual network gateway and the local network gateway must "
            "be in the same region as the connection."
        )


class PrivateIPAddressNotInSubnet(ArmError):
    def __init__(self, address: str, subnet: str) -> None:
        super().__init__(
            f"Private static IP address {address} does not belong to the range of "
            f"subnet prefix {subnet}."
        )


class PrivateIPAddressInUse(ArmError):
    def __init__(self, address: str) -> None:
        super().__init__(
            f"IP configuration uses private IP address {address} which is already in "
            "use by another resource."
        )


class SubnetIsFull(ArmError):
    def __init__(self, subnet_id: str) -> None:
        super().__init__(f"Subnet {subnet_id} has no free IP addresses left.")


class BastionSubnetRequired(ArmError):
    def __init__(self, subnet_id: str) -> None:
        super().__init__(
            f"Bastion host must be deployed to a subnet named 'AzureBastionSubnet'; "
            f"{subnet_id} is not."
        )


class AzureBastionSubnetTooSmall(ArmError):
    def __init__(self, prefix: str) -> None:
        super().__init__(f"AzureBastionSubnet {prefix} must be /26 or larger.")


class NicNotAttachedToRunningVm(ArmError):
    """Effective routes need a NIC attached to a running VM (documented; code is ours)."""

    def __init__(self, nic_id: str) -> None:
        super().__init__(
            f"Effective routes can be retrieved only for a network interface attached to a "
            f"running virtual machine; {nic_id} is not."
        )


class NetworkWatcherExtensionNotInstalled(ArmError):
    """Connectivity checks need the agent on the source VM (documented; code is ours)."""

    def __init__(self, vm_id: str) -> None:
        super().__init__(
            f"The Network Watcher agent extension (AzureNetworkWatcherExtension) is not "
            f"installed on the source virtual machine {vm_id}."
        )


class NetworkWatcherNotInSourceRegion(ArmError):
    def __init__(self, watcher: str, location: str) -> None:
        super().__init__(
            f"Network watcher {watcher} is not in the region of the source resource ({location})."
        )


# ------------------------------------------------------------------ compute


class OperationNotAllowed(ArmError):
    """A VM operation that needs the guest running (run command on a VM that is not).
    Code and message as Azure answers a stopped VM (MicrosoftDocs/azure-docs#32404)."""

    status = 409

    def __init__(self) -> None:
        super().__init__("The operation requires the VM to be running (or set to run).")


class InvalidParameter(ArmError):
    def __init__(self, message: str, target: str) -> None:
        super().__init__(message, target=target)


# ------------------------------------------------- throttling, injected faults


class TooManyRequests(ArmError):
    """An injected 429 (HUBVPN_EMULATOR_FAULTS throttle=P); Azure's code for it is
    SubscriptionRequestsThrottled, as for an empty bucket (the subclass below)."""

    status = 429
    code = "SubscriptionRequestsThrottled"
    retry_after_s: float | None = None  # None: the app's default hint

    def __init__(self) -> None:
        super().__init__(
            "Number of requests for subscription exceeded the limit. Please try again later."
        )


class SubscriptionRequestsThrottled(TooManyRequests):
    """ARM's token bucket is empty (limits.py). Code and wording: Microsoft Learn,
    "Troubleshoot the TooManyRequestsReceived or SubscriptionRequestsThrottled error code"."""

    def __init__(self, subscription: str, bucket: str, retry_after_s: float) -> None:
        ArmError.__init__(
            self,
            f"Number of {bucket.removesuffix('s')} requests for subscription '{subscription}' "
            f"exceeded the limit for the token bucket. Please try again after "
            f"'{max(1, round(retry_after_s))}' seconds.",
        )
        self.retry_after_s = retry_after_s


class InternalServerError(ArmError):
    status = 500

    def __init__(
        self, message: str = "An error has occurred in the server (injected fault)."
    ) -> None:
        super().__init__(message)


class ServiceUnavailable(ArmError):
    status = 503

    def __init__(self) -> None:
        super().__init__("The service is temporarily unavailable (injected fault).")
