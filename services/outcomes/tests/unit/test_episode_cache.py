"""The process's memory of episodes: bounded, least recently used out first."""

from __future__ import annotations

from outcomes.adapters.episode_cache import EpisodeCache, Held, new_version
from outcomes.domain.episode import Episode

from .test_episode import profile


def held(episode_id: str) -> Held:
    return Held(new_version(), Episode(episode_id=episode_id, profile=profile()), None)


def test_once_full_the_least_recently_used_episode_goes_first():
    cache = EpisodeCache(2)
    cache.put("a", held("a"))
    cache.put("b", held("b"))
    cache.snapshot(["a"])  # used: now "b" is the oldest
    cache.put("c", held("c"))
    assert set(cache.snapshot(["a", "b", "c"])) == {"a", "c"}
    assert len(cache) == 2


def test_a_cache_of_size_zero_holds_nothing():
    cache = EpisodeCache(0)
    cache.put("a", held("a"))
    assert cache.snapshot(["a"]) == {}
    assert len(cache) == 0


def test_each_write_gets_its_own_version_that_fits_a_bigint():
    versions = {new_version() for _ in range(1000)}
    assert len(versions) == 1000
    assert all(0 <= v < 2**63 for v in versions)
