"""The answer settings in plain words: how to read, what to favour, which model, checking.

Widgets start from the settings (defaults, ``longqa.toml``, ``LONGQA_*``); what the user picks
applies to the next question of this browser tab.
"""

from __future__ import annotations

import streamlit as st

from app.services.assistant import describe_model
from app.settings import PREFERENCE_LABELS, STRATEGY_INFO, Preference, Settings, StrategyName, load_settings
from ui import state

MODEL, STRATEGY, PREFER, VERIFY = state.MODEL_KEY, state.STRATEGY_KEY, state.PREFER_KEY, state.VERIFY_KEY

# the ways a question can be answered here, by alias (what the widget holds): every strategy but
# the baseline, which Automatic chooses where it does best (and the CLI offers as --strategy baseline)
OFFERED = {info.alias: info for info in STRATEGY_INFO.values() if info.name != StrategyName.BASELINE}
STRATEGY_HELP = " ".join(f"**{info.label}** {info.does}." for info in OFFERED.values())
PREFER_HELP = "How much reading time Automatic may spend on a question: more time, better answers."
MODEL_HELP = (
    "`llamacpp:default` is the built-in model (no server needed). `llamacpp:small` and "
    "`llamacpp:tiny` are faster and weaker; `llamacpp:/path/model.gguf` loads any GGUF file; "
    "`openai:http://HOST:8000/v1` uses an OpenAI-compatible server such as `vllm serve`."
)


def _defaults() -> None:
    if all(key in st.session_state for key in (MODEL, STRATEGY, PREFER, VERIFY)):
        return
    base = state.base_settings()
    strategy = STRATEGY_INFO[base.strategy].alias
    st.session_state.setdefault(MODEL, base.model)
    st.session_state.setdefault(STRATEGY, strategy if strategy in OFFERED else StrategyName.AUTO.value)
    st.session_state.setdefault(PREFER, base.prefer.value)
    st.session_state.setdefault(VERIFY, base.verify)


def _strategy_label(alias: str) -> str:
    info = OFFERED[alias]
    return f"{info.label} (recommended)" if info.name == StrategyName.AUTO else info.label


def render() -> None:
    """The settings expander of the sidebar."""
    _defaults()
    with st.expander("Answer settings", icon=":material/tune:"):
        st.radio(
            "How to read the documents",
            list(OFFERED),
            format_func=_strategy_label,
            key=STRATEGY,
            help=STRATEGY_HELP,
        )
        st.radio(
            "Favour",
            [p.value for p in Preference],
            format_func=lambda value: PREFERENCE_LABELS[Preference(value)],
            key=PREFER,
            horizontal=True,
            help=PREFER_HELP,
            disabled=st.session_state[STRATEGY] != "auto",
        )
        st.text_input("Model", key=MODEL, help=MODEL_HELP)
        st.caption(describe_model(st.session_state[MODEL]))
        st.toggle(
            "Check every citation with the model",
            key=VERIFY,
            help="After answering, the model judges whether each quoted passage supports its sentence. "
            "Slower, and shows a verdict beside each source.",
        )
    st.caption(f"{summary()} · `{st.session_state[MODEL]}`")


def summary() -> str:
    """The chosen settings in a few words."""
    _defaults()
    chosen = OFFERED[st.session_state[STRATEGY]]
    how = chosen.label
    if chosen.name == StrategyName.AUTO:
        how += f", {PREFERENCE_LABELS[Preference(st.session_state[PREFER])].lower()}"
    return how + ("" if st.session_state[VERIFY] else ", citations not checked")


def current() -> Settings:
    """The settings a question is answered with now."""
    _defaults()
    return load_settings(
        model=st.session_state[MODEL].strip() or None,
        strategy=st.session_state[STRATEGY],
        prefer=st.session_state[PREFER],
        verify=st.session_state[VERIFY],
    )
