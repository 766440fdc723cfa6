"""When to try again, and how fast one destination may be sent to.

* **Backoff**: exponential (x4 per attempt) from ``first`` up to ``cap``, with +/-20% jitter
  so that retries after an outage do not arrive together; with the defaults (5 s, 6 h, 15
  attempts) the last attempt comes about three days after the first, as Standard Webhooks
  suggests. A receiver's ``Retry-After`` wins when it asks for longer.
* **Rate limits** per destination, as the receivers document them: Slack incoming webhooks
  about one message a second; Teams connectors 4 a second, 60 per 30 s, 100 an hour, 1,800 a
  day. A destination that answered 429 or 503 with ``Retry-After`` is paused that long for
  every message, not just the one that was refused.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field

from services.notifications.domain.endpoints import EndpointKind

LIMITS: dict[EndpointKind, tuple[tuple[int, float], ...]] = {
    EndpointKind.SLACK: ((1, 1.0),),
    EndpointKind.TEAMS: ((4, 1.0), (60, 30.0), (100, 3600.0), (1_800, 86_400.0)),
    EndpointKind.WEBHOOK: ((10, 1.0),),
    EndpointKind.APPRISE: ((1, 1.0),),
    EndpointKind.EMAIL: (),
}
"""(messages, per seconds) windows each destination of a kind must stay within."""


@dataclass(frozen=True)
class Backoff:
    first: float = 5.0
    cap: float = 6 * 3600.0
    attempts: int = 15
    factor: float = 4.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        base = min(self.cap, self.first * self.factor ** (attempt - 1))
        return base * (rng or random).uniform(0.8, 1.2)

    def horizon(self) -> float:
        """Seconds from the first attempt to the last, without jitter."""
        return sum(min(self.cap, self.first * self.factor**a) for a in range(self.attempts - 1))


@dataclass
class Destination:
    windows: tuple[tuple[int, float], ...]
    sent: deque[float] = field(default_factory=deque)
    paused_until: float = 0.0


class RateLimits:
    """Per destination: may a message go now, and if not, in how many seconds."""

    def __init__(self) -> None:
        self._destinations: dict[str, Destination] = {}

    def _of(self, key: str, kind: EndpointKind) -> Destination:
        if key not in self._destinations:
            self._destinations[key] = Destination(LIMITS[kind])
        return self._destinations[key]

    def reserve(self, key: str, kind: EndpointKind, now: float) -> float:
        """0 and the send is counted, or the seconds until one may go."""
        destination = self._of(key, kind)
        if destination.paused_until > now:
            return destination.paused_until - now
        longest = max((seconds for _, seconds in destination.windows), default=0.0)
        while destination.sent and destination.sent[0] <= now - longest:
            destination.sent.popleft()
        wait = 0.0
        for limit, seconds in destination.windows:
            recent = [t for t in destination.sent if t > now - seconds]
            if len(recent) >= limit:
                wait = max(wait, recent[-limit] + seconds - now)
        if wait <= 0:
            destination.sent.append(now)
        return max(wait, 0.0)

    def pause(self, key: str, kind: EndpointKind, until: float) -> None:
        destination = self._of(key, kind)
        destination.paused_until = max(destination.paused_until, until)
