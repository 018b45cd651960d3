"""hubvpn: stand up, inspect, verify and tear down a multi-hub Azure VPN lab."""

__version__ = "0.1.0"
