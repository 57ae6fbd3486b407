"""Routing decisions on crafted corpora and speeds, escalation, and budgets never exceeded."""

from __future__ import annotations

import pytest
from pydantic import Field

from agents.answer import Trace
from agents.evidence.corpus import Corpus
from agents.models.backends import Backend
from agents.models.calls import BudgetError, Caller
from agents.models.speeds import Speed
from agents.orchestrator import Answerer, AskOptions
from agents.prompts import REFUSAL
from agents.reading.router import estimates, reading, route
from agents.reading.strategies.base import FRAME_TOKENS
from agents.reading.strategies.registry import label
from retrieval.search import Hit
from tests.agents.fakes import ScriptedChat, is_judge, scripted

CPU = Speed(prefill=73, decode=19)
GPU = Speed(prefill=5000, decode=80)


class ShapedCorpus(Corpus):
    """The real corpus, with retrieval scores set by the test (concentrated, flat or low)."""

    def __init__(self, corpus: Corpus, scores: list[float]) -> None:
        super().__init__(corpus.index, corpus.searcher)
        self.scores = scores

    def search(self, question: str, k: int) -> list[Hit]:
        hits = super().search(question, k)
        return [
            Hit(h.chunk, h.score, s, i + 1, None, None) for i, (h, s) in enumerate(zip(hits, self.scores))
        ]


CONCENTRATED = [0.72, 0.41, 0.38, 0.35, 0.33, 0.31, 0.30, 0.29, 0.28, 0.27]
FLAT = [0.46, 0.45, 0.45, 0.44, 0.44, 0.43, 0.43, 0.43, 0.42, 0.42]
LOW = [0.12, 0.05, 0.04, 0.03, 0.02, 0.02, 0.01, 0.01, 0.01, 0.0]


def backend_with(speed: Speed, window: int = 32768) -> Backend:
    _, backend = scripted(["x"], window=window)
    backend.prior = speed
    return backend


def test_small_collection_on_fast_backend_is_read_whole(small_corpus: Corpus) -> None:
    decision = route("How much disk space?", ShapedCorpus(small_corpus, CONCENTRATED), backend_with(GPU))
    assert decision.strategy == "full_context"
    assert "fits the 32768-token window" in decision.reason
    assert set(decision.estimates) == {
        "full_context",
        "retrieve_reason",
        "chain_of_agents",
        "baseline",
        "collect",
    }


def test_a_read_ahead_collection_is_reported_as_prompt_tokens_read_ahead(small_corpus: Corpus) -> None:
    backend = backend_with(CPU)
    backend.cached_prefix = lambda messages, prefix: (740, 21_000_000)  # the prompt up to the question
    decision = route("Summarise the manual.", ShapedCorpus(small_corpus, FLAT), backend)
    full = decision.estimates["full_context"]
    assert full.cached_tokens == 740
    assert decision.strategy == "full_context"
    assert "(740 prompt tokens read ahead)" in decision.reason and "of them cached" not in decision.reason


def test_a_read_ahead_chain_of_agents_is_estimated_from_what_each_worker_reads_past_its_segment(
    big_corpus: Corpus,
) -> None:
    backend = backend_with(CPU, window=8192)
    # every worker's prompt is stored up to the question: 40 tokens of it are left to read
    backend.cached_prefix = lambda messages, prefix: (backend.count_prompt(messages) - 40, 10_000_000)
    known = reading("Summarise the manual.", big_corpus, backend)
    workers = len(known.prefixes.get("chain_of_agents", []))
    assert workers > 1
    coa = estimates(backend, known.corpus_tokens, 0, known)["chain_of_agents"]
    # beyond its stored segment, worker i reads the question and the notes of the i before it
    # (as many tokens as a worker usually writes here), the manager all the notes
    written = backend.speed.writes("notes")
    notes = [min(i * written, 300) for i in range(workers + 1)]
    expected = 40 * workers + sum(int(n) for n in notes[:-1]) + int(notes[-1]) + FRAME_TOKENS
    assert coa.prompt_tokens - coa.cached_tokens == expected
    assert expected < workers * 300  # not a fixed room of notes for every worker
    assert coa.calls == workers + 1


def test_cpu_does_not_read_a_long_manual_whole_for_a_lookup(big_corpus: Corpus) -> None:
    shaped = ShapedCorpus(big_corpus, CONCENTRATED)
    decision = route("What is the default gap penalty?", shaped, backend_with(CPU, window=65536))
    assert decision.strategy == "retrieve_reason"
    assert "over the balanced budget" in decision.reason and "about one thing" in decision.reason
    full = decision.estimates["full_context"]
    assert full.fits and full.seconds > 240
    fast = route("What is the default gap penalty?", shaped, backend_with(GPU, window=65536))
    assert fast.strategy == "full_context"
    patient = route(
        "What is the default gap penalty?", shaped, backend_with(CPU, window=65536), prefer="quality"
    )
    assert patient.strategy == "full_context"


@pytest.mark.parametrize(
    ("question", "scores", "signal"),
    [
        ("Compare the programs the package includes.", CONCENTRATED, "its wording ('Compare')"),
        ("Summarize the guide.", CONCENTRATED, "its wording ('Summarize')"),
        ("What is this about?", FLAT, "flat retrieval scores"),
        ("What is this about?", LOW, "low retrieval scores"),
    ],
)
def test_whole_collection_questions_go_to_chain_of_agents(
    big_corpus: Corpus, question: str, scores: list[float], signal: str
) -> None:
    decision = route(question, ShapedCorpus(big_corpus, scores), backend_with(Speed(800, 40), window=8192))
    assert decision.strategy == "chain_of_agents", decision.reason
    assert signal in decision.reason
    assert decision.scope is None


def test_chain_of_agents_is_scoped_when_the_whole_is_over_budget(big_corpus: Corpus) -> None:
    decision = route(
        "Compare the error types errors.go defines with WithMessage and WithStack.",
        ShapedCorpus(big_corpus, CONCENTRATED),
        backend_with(Speed(150, 15), window=8192),
    )
    assert decision.strategy == "chain_of_agents"
    assert decision.scope and "code/errors.go" in decision.scope
    assert all(label(name) != name for name in decision.estimates)  # each option in plain words
    assert "fasta_guide.pdf" not in decision.scope  # the 37-page guide alone is over the budget
    assert "retrieval points at" in decision.reason
    assert (
        decision.estimates["chain_of_agents"].seconds
        > 240
        >= decision.estimates["chain_of_agents (scoped)"].seconds
    )


def test_cost_preference_falls_back_to_wide_retrieval(big_corpus: Corpus) -> None:
    decision = route(
        "How many options are there?",
        ShapedCorpus(big_corpus, CONCENTRATED),
        backend_with(CPU, window=8192),
        prefer="cost",
        k=8,
    )
    # on a 2-core CPU a chain of agents and a wider retrieval are both over the 60 s budget:
    # retrieval as deep as usual is the way that fits it
    assert decision.strategy == "retrieve_reason" and decision.k is None
    assert "retrieve_reason (wider) would take" in decision.reason
    wider = decision.estimates["retrieve_reason (wider)"]
    assert wider.seconds > 60 >= decision.estimates["retrieve_reason"].seconds
    assert all(label(name) != name for name in decision.estimates)  # each option in plain words


@pytest.mark.parametrize("prefill", [40, 73, 150, 400, 1500, 5000])
@pytest.mark.parametrize("prefer", ["quality", "balanced", "cost"])
@pytest.mark.parametrize(
    ("question", "scores"),
    [("What is the default gap penalty?", CONCENTRATED), ("Summarize the guide.", FLAT), ("Why?", LOW)],
)
def test_never_over_budget_while_a_strategy_within_it_exists(
    big_corpus: Corpus, prefill: float, prefer: str, question: str, scores: list[float]
) -> None:
    from agents.reading.router import PREFERENCES

    backend = backend_with(Speed(prefill=prefill, decode=prefill / 4, slowdown=0.2), window=32768)
    decision = route(question, ShapedCorpus(big_corpus, scores), backend, prefer=prefer)
    budget = PREFERENCES[prefer]["latency"]
    chosen = decision.estimates.get(
        {"chain_of_agents": "chain_of_agents (scoped)" if decision.scope else "chain_of_agents"}.get(
            decision.strategy, decision.strategy if decision.k is None else "retrieve_reason (wider)"
        )
    )
    assert chosen is not None
    within = [e for name, e in decision.estimates.items() if e.fits and e.seconds <= budget]
    if within:
        assert chosen.seconds <= budget, decision.reason
    else:
        assert "over the" in decision.reason


def _first_sentence(prompt: str) -> str:
    """The first line of some words in the [S1] block of a prompt: a claim the block really states."""
    block = prompt.split("[S1]", 1)[1].split("\n[S", 1)[0]
    return next(line.strip() for line in block.split("\n")[1:] if len(line.split()) >= 4)


def test_refusal_escalates_to_chain_of_agents_and_only_the_final_answer_streams(big_corpus: Corpus) -> None:
    stated: list[str] = []

    def reply(messages) -> str:
        prompt = str(messages[-1].content)
        if "Copy, word for word" in prompt:
            return "NONE"
        if "Write the new facts from part" in prompt:
            if "[S1]" in prompt and not stated:
                stated.append(_first_sentence(prompt))
            return f"{stated[0]} [S1]" if stated else "NONE"
        if is_judge(messages):
            return "yes"
        return f"{stated[0]} [S1]"

    _chat, backend = scripted(reply=reply, window=8192)
    backend.prior = Speed(5000, 80)
    streamed: list[str] = []
    answerer = Answerer(
        ShapedCorpus(big_corpus, CONCENTRATED), backend, options=AskOptions(strategy="auto", prefer="cost")
    )
    answer = answerer.ask("Which search programs does the guide describe?", on_token=streamed.append)
    assert answer.strategy == "retrieve_reason→chain_of_agents" and label(answer.strategy) != answer.strategy
    assert any("escalated to chain_of_agents" in e for e in answer.trace.events)
    roles = [c.role for c in answer.trace.calls]
    assert roles[0] == "retrieve" and any(r.startswith("worker") for r in roles) and "manager" in roles
    assert "".join(streamed).strip() == f"{stated[0]} [S1]"
    assert REFUSAL not in "".join(streamed)


def test_a_small_models_refusal_stands_without_reading_more(big_corpus: Corpus) -> None:
    def reply(messages) -> str:
        return "NONE" if "Copy, word for word" in str(messages[-1].content) else "unused"

    _chat, backend = scripted(reply=reply, window=8192)
    backend.prior, backend.packaged = Speed(5000, 80), True
    answer = Answerer(
        ShapedCorpus(big_corpus, CONCENTRATED), backend, options=AskOptions(strategy="auto", prefer="cost")
    ).ask("Which search programs does the guide describe?")
    assert answer.strategy == "retrieve_reason" and answer.refused
    assert [c.role for c in answer.trace.calls if c.role != "follow-up"] == ["retrieve"]
    assert not any("escalated" in e for e in answer.trace.events)


def test_a_small_model_answers_a_question_about_the_whole_from_the_top_passages(big_corpus: Corpus) -> None:
    backend = backend_with(Speed(800, 40), window=8192)
    assert route("Summarize the guide.", ShapedCorpus(big_corpus, CONCENTRATED), backend).strategy == (
        "chain_of_agents"
    )
    backend.packaged = True
    decision = route("Summarize the guide.", ShapedCorpus(big_corpus, CONCENTRATED), backend)
    assert decision.strategy == "baseline", decision.reason
    assert "a small model's chain of agents finds little" in decision.reason
    assert "baseline takes ~" in decision.reason


@pytest.mark.parametrize("route", ["chain of agents", "wider"])
def test_an_escalated_answer_its_citations_do_not_support_leaves_the_refusal_standing(
    big_corpus: Corpus, route: str
) -> None:
    copies: list[str] = []

    def reply(messages) -> str:
        prompt = str(messages[-1].content)
        if is_judge(messages):
            return "no"
        if "Copy, word for word" in prompt:
            # the first retrieval finds nothing; the wider one copies an unrelated sentence
            copies.append(prompt)
            if len(copies) == 1:
                return "NONE"
            return "[S1] " + _first_sentence(prompt)
        if "Write the new facts from part" in prompt:
            return "The price is 40 dollars [S1]."
        return "It costs 40 dollars [S1]."

    _chat, backend = scripted(reply=reply, window=8192)
    backend.prior = Speed(5000, 80) if route == "chain of agents" else Speed(prefill=30, decode=5)
    streamed: list[str] = []
    options = AskOptions(strategy="auto", k=4, verify=False)
    answer = Answerer(ShapedCorpus(big_corpus, CONCENTRATED), backend, options=options).ask(
        "What does the guide cost?", on_token=streamed.append
    )
    assert answer.refused and answer.strategy == "retrieve_reason" and answer.citations == []
    # judged even with verify off: "40 dollars" is in no sentence of the cited chunk
    assert any("not supported by its own citations, so the refusal stands" in e for e in answer.trace.events)
    assert "".join(streamed).strip() == REFUSAL  # the guess was never shown


class CountingChat(ScriptedChat):
    """Records each prompt's size in the backend's own count."""

    sizes: list[int] = Field(default_factory=list)
    counter: object = None

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.sizes.append(self.counter(messages))  # type: ignore[operator]
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)


@pytest.mark.parametrize("strategy", ["auto", "rag", "coa"])
def test_no_prompt_exceeds_window_minus_answer_budget(big_corpus: Corpus, strategy: str) -> None:
    window, answer_tokens = 2048, 300
    chat = CountingChat(reply=lambda m: "yes" if is_judge(m) else "Notes [S1]. The answer [S2].", sizes=[])
    backend = Backend.wrap(chat, context_window=window, spec="test:counting", answer_tokens=answer_tokens)
    chat.counter = backend.count_prompt
    answer = Answerer(big_corpus, backend, options=AskOptions(strategy=strategy, k=12)).ask(
        "How many programs?"
    )
    assert chat.sizes and max(chat.sizes) + answer_tokens <= window
    assert len(answer.trace.calls) == len(chat.sizes)


def test_caller_refuses_an_oversized_prompt() -> None:
    _, backend = scripted(["x"], window=600, answer_tokens=200)
    from langchain_core.messages import HumanMessage

    with pytest.raises(BudgetError, match="exceeds the 600-token window"):
        Caller(backend, Trace()).call("answer", [HumanMessage("word " * 450)])


def test_refusal_on_a_slow_backend_searches_wider_instead_of_reading_everything(big_corpus: Corpus) -> None:
    def reply(messages) -> str:
        prompt = str(messages[-1].content)
        if "Copy, word for word" in prompt:
            return "NONE"
        return "yes" if is_judge(messages) else "unused"

    chat, backend = scripted(reply=reply, window=8192)
    backend.prior = Speed(prefill=30, decode=5)  # not even one document fits the balanced budget
    answer = Answerer(
        ShapedCorpus(big_corpus, CONCENTRATED), backend, options=AskOptions(strategy="auto", k=4)
    ).ask("What is the default gap penalty?")
    assert answer.strategy == "retrieve_reason→wider" and answer.refused
    assert label(answer.strategy) == "Search, then reason; found nothing, so searched wider"
    assert [c.role for c in answer.trace.calls] == ["retrieve", "retrieve"]
    first, second = (p.count("\n[S") for p in chat.texts())
    assert second > first
    assert any("retrieved again 8 chunks wide" in e for e in answer.trace.events)
    assert not any(c.role.startswith("worker") for c in answer.trace.calls)


def test_a_small_model_answers_a_lookup_from_retrieved_facts_even_when_everything_fits(
    small_corpus: Corpus,
) -> None:
    shaped = ShapedCorpus(small_corpus, CONCENTRATED)
    backend = backend_with(Speed(prefill=2000, decode=40))
    assert route("How much disk space?", shaped, backend).strategy == "full_context"
    backend.packaged = True  # the packaged models: they cite more exactly from retrieved facts
    decision = route("How much disk space?", shaped, backend)
    assert decision.strategy == "retrieve_reason"
    assert "fits the 32768-token window" in decision.reason and "a small model cites" in decision.reason
    whole = route("Summarize the guide.", shaped, backend)  # about the whole: read it all
    assert whole.strategy == "full_context"
    slow = backend_with(Speed(prefill=100, decode=3))
    slow.packaged = True
    over = route("How much disk space?", shaped, slow, prefer="cost")  # retrieving is over budget
    assert over.estimates["retrieve_reason"].seconds > 60 >= over.estimates["full_context"].seconds
    assert over.strategy == "full_context"


def test_the_router_asks_each_strategy_its_own_cost(small_corpus: Corpus, monkeypatch) -> None:
    """A strategy added to ``STRATEGIES`` is estimated by itself: the router knows none of its calls."""
    from agents.answer import Estimate
    from agents.reading import strategies
    from agents.reading.strategies.base import Call, Sizing

    asked: list[Sizing] = []

    class Skim:
        name = "skim"

        def answer(self, question, context):  # pragma: no cover - never chosen here
            raise AssertionError

        def prefixes(self, question, context):
            return []

        def estimate(self, sizing: Sizing) -> Estimate:
            asked.append(sizing)
            return sizing.cost([Call(sizing.retrieved_tokens // 2, 10)])

    monkeypatch.setitem(strategies.STRATEGIES, "skim", Skim())
    backend = backend_with(CPU)
    decision = route("How much disk space?", ShapedCorpus(small_corpus, CONCENTRATED), backend)
    skim = decision.estimates["skim"]
    assert asked and asked[0].backend is backend and asked[0].retrieved_tokens > 0
    assert skim.calls == 1 and skim.prompt_tokens == asked[0].retrieved_tokens // 2
    assert skim.seconds == backend.estimate_seconds(skim.prompt_tokens, 10, 0, 0)
