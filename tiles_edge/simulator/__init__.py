"""The embedded Hubitat hub used by ``tiles-edge demo``, the integration tests and benchmarks."""

from tiles_edge.simulator.hub import Faults, SimulatedHub
from tiles_edge.simulator.state import SimEvent

__all__ = ["Faults", "SimEvent", "SimulatedHub"]
