"""Zeroconf discovery: advertise the dashboard, find Hubitat hubs and MediaMTX servers."""

from tiles_edge.discovery.service import Discovery

__all__ = ["Discovery"]
