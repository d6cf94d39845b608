"""KPI facts place an episode where the domain does, and their tallies kept by deltas equal the
tallies counted from scratch."""

from __future__ import annotations

from hypothesis import given, settings
from outcomes.domain.dimensions import DIMENSIONS, dimension_values
from outcomes.domain.episode import Episode
from outcomes.domain.facts import KpiFact, TallyDeltas, fact_values, kpi_fact

from .test_accumulator import _PLACEHOLDER_PROFILE, EPISODES, histories


@settings(max_examples=200, deadline=None)
@given(EPISODES)
def test_a_fact_counts_in_the_cells_its_episode_counts_in(episode):
    fact = kpi_fact(episode)
    for by in DIMENSIONS:
        assert fact_values(fact.placement, by) == dimension_values(episode, by), by


def _add_tallies(stored: dict, changes: list) -> None:
    for key, change in changes:
        now = [a + b for a, b in zip(stored.get(key, [0, 0, 0]), change, strict=True)]
        if now[2] == 0:
            assert now == [0, 0, 0]  # no episodes left, so nothing summed over them either
            stored.pop(key, None)
        else:
            stored[key] = now


def _add_counts(stored: dict, changes: list) -> None:
    for key, change in changes:
        now = stored.get(key, 0) + change
        if now:
            stored[key] = now
        else:
            stored.pop(key, None)


@settings(max_examples=100, deadline=None)
@given(histories())
def test_tallies_moved_by_each_change_equal_the_tallies_of_the_facts_left(history):
    changes, _ = history
    facts: dict[str, KpiFact] = {}
    tallies: dict = {}
    counts: dict = {}
    batch = TallyDeltas()
    for step, (episode_id, version) in enumerate(changes):
        if version is None:
            continue  # the repository never removes an episode
        fact = kpi_fact(version)
        if batch.replace(facts.get(episode_id), fact):
            facts[episode_id] = fact
        else:
            assert facts[episode_id] == fact
        if step % 3 == 0:  # several changes in one batch, as a flush applies them
            _add_tallies(tallies, batch.changed_tallies())
            _add_counts(counts, batch.changed_value_counts())
            batch = TallyDeltas()
    _add_tallies(tallies, batch.changed_tallies())
    _add_counts(counts, batch.changed_value_counts())

    scratch = TallyDeltas()
    for fact in facts.values():
        assert scratch.replace(None, fact)
    assert tallies == dict(scratch.changed_tallies())
    assert counts == dict(scratch.changed_value_counts())


def test_a_fact_that_did_not_change_changes_no_tally():
    fact = kpi_fact(Episode("ep_0000000000000001", _PLACEHOLDER_PROFILE))
    deltas = TallyDeltas()
    assert not deltas.replace(fact, fact)
    assert deltas.changed_tallies() == [] and deltas.months == set()
