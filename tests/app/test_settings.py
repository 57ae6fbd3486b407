"""Settings' choices are types: a strategy or preference is checked where settings are made, an
alias becomes the canonical name, and a typo is one line naming the valid values."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.settings import Preference, Settings, StrategyName, load_settings
from core.errors import LongqaError


@pytest.fixture(autouse=True)
def no_settings_file(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LONGQA_CONFIG", raising=False)
    monkeypatch.delenv("LONGQA_STRATEGY", raising=False)
    monkeypatch.delenv("LONGQA_PREFER", raising=False)


def test_an_alias_is_kept_as_the_canonical_name() -> None:
    settings = Settings(strategy="rag", prefer="cost")
    assert settings.strategy is StrategyName.RETRIEVE_REASON and settings.prefer is Preference.COST
    assert Settings(strategy="chain_of_agents").strategy is StrategyName.CHAIN_OF_AGENTS
    assert Settings().strategy is StrategyName.AUTO and Settings().prefer is Preference.BALANCED


def test_the_environment_may_name_a_strategy_by_its_alias(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LONGQA_STRATEGY", "coa")
    assert load_settings().strategy is StrategyName.CHAIN_OF_AGENTS


def test_an_unknown_strategy_fails_where_settings_are_made_naming_the_valid_values() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(strategy="fast")
    message = str(caught.value)
    assert "unknown strategy 'fast'" in message
    assert "auto, full, rag, coa, baseline" in message and "retrieve_reason" in message


def test_an_unknown_preference_fails_where_settings_are_made_naming_the_valid_values() -> None:
    with pytest.raises(ValidationError, match="unknown preference 'fastest': use quality, balanced, cost"):
        Settings(prefer="fastest")


@pytest.mark.parametrize(
    ("overrides", "line"),
    [
        (
            {"strategy": "fast"},
            "setting strategy: unknown strategy 'fast': use auto, full, rag, coa, baseline, collect "
            "(or full_context, retrieve_reason, chain_of_agents)",
        ),
        ({"prefer": "fastest"}, "setting prefer: unknown preference 'fastest': use quality, balanced, cost"),
        ({"max_file_mb": 0}, "setting max_file_mb = 0: input should be greater than 0"),
    ],
)
def test_a_bad_setting_is_one_line(overrides: dict[str, object], line: str) -> None:
    with pytest.raises(LongqaError) as caught:
        load_settings(**overrides)
    assert str(caught.value) == line
