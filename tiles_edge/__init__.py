"""MOBIUS.TILES Edge: a live tile dashboard for Hubitat Elevation hubs."""

__version__ = "0.1.0"
