"""Health of one hub: online, degraded (REST works, the live channel does not) or offline.

A state change is logged once: offline as an error, degraded as a warning, back online as
info. Further reports of the same failure are counted and logged at debug level only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from tiles_edge.hubs.model import HealthState, HubHealth

logger = logging.getLogger(__name__)


class HealthTracker:
    """Derive a hub's ``HubHealth`` from its REST and live-channel status and publish changes.

    ``publish`` is called with the health record whenever the state or the reason changes.
    """

    def __init__(
        self,
        hub_id: str,
        name: str,
        publish: Callable[[HubHealth], None],
        *,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.health = HubHealth(hub_id=hub_id, name=name, state="offline", reason="connecting")
        self._publish = publish
        self._wall_clock = wall_clock
        # Until the first REST call ends, the hub shows as offline "connecting", unlogged.
        self._rest_known = False
        self._rest_error: str | None = None
        self._live_error: str | None = None
        self._logged_state: HealthState | None = None
        self._repeats = 0
        self._failures = 0

    @property
    def rest_ok(self) -> bool:
        return self._rest_known and self._rest_error is None

    @property
    def live_ok(self) -> bool:
        return self._live_error is None

    def rest_succeeded(self) -> None:
        self._rest_known = True
        self._rest_error = None
        self._update()

    def rest_failed(self, reason: str) -> None:
        self._failures += 1
        self._rest_known = True
        self._rest_error = reason
        self._update()

    def live_up(self) -> None:
        self._live_error = None
        self._update()

    def live_down(self, reason: str) -> None:
        self._failures += 1
        self._live_error = reason
        self._update()

    def snapshot_taken(self, device_count: int, *, live_up: bool = False) -> None:
        """Record a successful snapshot, and with ``live_up`` a live channel that is up."""
        self.health.last_snapshot_at = self._wall_clock()
        self.health.device_count = device_count
        if live_up:
            self._live_error = None
        self.rest_succeeded()

    def event_received(self) -> None:
        self.health.last_event_at = self._wall_clock()

    def webhook_received(self) -> None:
        now = self._wall_clock()
        self.health.last_webhook_at = now
        self.health.last_event_at = now

    def _update(self) -> None:
        if not self._rest_known:
            return
        state: HealthState
        if self._rest_error is not None:
            state, reason = "offline", self._rest_error
        elif self._live_error is not None:
            state, reason = "degraded", self._live_error
        else:
            state, reason = "online", None

        if state != self._logged_state:
            self._log_transition(state, reason)
        elif state != "online":
            self._repeats += 1
            logger.debug(
                "hub %r still %s (%d repeats): %s", self.health.hub_id, state, self._repeats, reason
            )

        health = self.health
        if state != health.state or reason != health.reason:
            health.state = state
            health.reason = reason
            self._publish(health)

    def _log_transition(self, state: HealthState, reason: str | None) -> None:
        hub_id = self.health.hub_id
        if state == "offline":
            logger.error("hub %r is offline: %s", hub_id, reason)
        elif state == "degraded":
            logger.warning("hub %r is degraded: %s", hub_id, reason)
        elif self._logged_state is None:
            logger.info("hub %r is online", hub_id)
        else:
            logger.info("hub %r is back online after %d failures", hub_id, self._failures)
        if state == "online":
            self._failures = 0
        self._logged_state = state
        self._repeats = 0
