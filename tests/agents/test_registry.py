"""The registry of strategies and preferences: one name, one alias and one label each, every
name and alias resolved, a typo a one-line error listing what is valid, and a label for whatever
the router and the orchestrator record."""

from __future__ import annotations

import pytest

from agents.reading.strategies import STRATEGIES
from agents.reading.strategies.registry import (
    ESCALATED,
    PREFERENCE_LABELS,
    SCOPED,
    STRATEGY_INFO,
    WIDENED,
    WIDER,
    Preference,
    StrategyName,
    UnknownChoice,
    label,
    preference,
    strategy_name,
)
from core.errors import LongqaError


def test_every_strategy_is_registered_once_with_its_alias() -> None:
    assert list(STRATEGY_INFO) == list(StrategyName)
    assert {info.name: info.alias for info in STRATEGY_INFO.values()} == {
        "auto": "auto",
        "full_context": "full",
        "retrieve_reason": "rag",
        "chain_of_agents": "coa",
        "baseline": "baseline",
        "collect": "collect",
    }


def test_every_strategy_but_auto_has_an_implementation() -> None:
    assert set(STRATEGIES) == set(StrategyName) - {StrategyName.AUTO}


@pytest.mark.parametrize("info", list(STRATEGY_INFO.values()), ids=lambda info: info.name)
def test_a_name_and_its_alias_resolve_to_the_canonical_name(info) -> None:
    assert strategy_name(info.name) is info.name
    assert strategy_name(info.alias) is info.name


def test_labels_are_plain_words_and_unique() -> None:
    labels = [label(key) for key in (*StrategyName, WIDER, SCOPED, ESCALATED, WIDENED)]
    assert len(set(labels)) == len(labels)
    assert not any("_" in text or "→" in text for text in labels), labels
    assert [label(info.alias) for info in STRATEGY_INFO.values()] == [label(n) for n in StrategyName]
    assert len(set(PREFERENCE_LABELS.values())) == len(Preference) == len(PREFERENCE_LABELS)


def test_what_an_answer_records_after_an_escalation_has_a_label() -> None:
    # the strings the orchestrator records today; the symptom was the raw retrieve_reason→wider
    assert (
        label("retrieve_reason→wider")
        == label(WIDENED)
        == "Search, then reason; found nothing, so searched wider"
    )
    assert label("retrieve_reason→chain_of_agents") == label(ESCALATED)
    assert label("retrieve_reason (wider)") == "Search, then reason (wider)"
    assert label("something new") == "something new"


def test_an_unknown_strategy_is_one_line_listing_every_name_and_alias() -> None:
    with pytest.raises(UnknownChoice) as caught:
        strategy_name("fast")
    message = str(caught.value)
    assert isinstance(caught.value, LongqaError) and isinstance(caught.value, ValueError)
    assert "\n" not in message and message.startswith("unknown strategy 'fast': use ")
    for info in STRATEGY_INFO.values():
        assert info.name in message and info.alias in message


def test_an_unknown_preference_is_one_line_listing_every_preference() -> None:
    assert preference("cost") is Preference.COST
    with pytest.raises(UnknownChoice, match=r"^unknown preference 'fastest': use quality, balanced, cost$"):
        preference("fastest")
