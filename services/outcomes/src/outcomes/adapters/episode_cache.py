"""Episodes this process wrote or read last, with the version they were stored under.

Reading an episode back meant sending its JSON state and parsing it again, with its stored KPI
fact, for every batch that touched it: a fifth of the service's time under load. Locking it for
every batch cost the database about 7 µs an event more. An episode held here is now taken as it
is, and the batch's write is made only over the version held (see episodes.py), so an episode
last written by this process is neither read, parsed nor locked again.

Only what is committed is held: an episode read under the lock or written is held once its
transaction has committed. Versions are random, written with the state in the same statement;
another instance's write, a schema reset or a hand repair (whose trigger clears the version)
leave a version held here that is stored nowhere, and the batch that finds that out forgets its
episodes. Episodes are immutable, so an entry can be handed to a batch as it is. Least recently
used entries go first once `capacity` are held; 0 holds none.
"""

from __future__ import annotations

import random
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from outcomes.domain.episode import Episode
from outcomes.domain.facts import KpiFact

_versions = random.Random()  # noqa: S311 - a stamp to compare, not a secret


def new_version() -> int:
    """A version for one write: random, so no earlier write (or reset database) shares it."""
    return _versions.getrandbits(63)


@dataclass(frozen=True, slots=True)
class Held:
    version: int
    episode: Episode
    fact: KpiFact | None  # the KPI fact stored with it, None where it counts in no KPI yet


class EpisodeCache:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._held: OrderedDict[str, Held] = OrderedDict()

    def __len__(self) -> int:
        return len(self._held)

    def snapshot(self, episode_ids: list[str]) -> dict[str, Held]:
        """What is held of `episode_ids` now: a batch decides on these entries, whatever the
        cache does while its query is under way."""
        found = {}
        for episode_id in episode_ids:
            held = self._held.get(episode_id)
            if held is not None:
                self._held.move_to_end(episode_id)
                found[episode_id] = held
        return found

    def put_all(self, entries: Iterable[tuple[str, Held]]) -> None:
        for episode_id, held in entries:
            self.put(episode_id, held)

    def forget(self, episode_ids: Iterable[str]) -> None:
        for episode_id in episode_ids:
            self._held.pop(episode_id, None)

    def put(self, episode_id: str, held: Held) -> None:
        if self.capacity <= 0:
            return
        self._held[episode_id] = held
        self._held.move_to_end(episode_id)
        while len(self._held) > self.capacity:
            self._held.popitem(last=False)
