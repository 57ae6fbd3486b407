"""Answering one question end to end: route, read, resolve citations, verify them.

``Answerer.ask`` runs the chosen strategy, escalates a retrieve_reason refusal to
chain_of_agents (auto only), drops the sentences that only obey an instruction found in the
documents (``agents.evidence.injection``), maps ``[S#]`` markers to narrowed citations, judges each
citation's support, cites again where the collection supports a sentence its citations do not
(``agents.verify.repair``), and with ``strict`` removes the sentences no citation supports.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from agents.answer import Answer, Citation, Trace
from agents.evidence.citations import Sentence, cite, is_refusal, parse_markers
from agents.evidence.corpus import Corpus
from agents.evidence.injection import find, obeyed
from agents.models.backends import Backend
from agents.models.calls import Caller, HoldRefusal, TokenSink
from agents.prompts import REFUSAL
from agents.reading.router import Decision, follow_ups, plan_chain, route
from agents.reading.short_answer import short_answer
from agents.reading.strategies import STRATEGIES, Context, Draft
from agents.reading.strategies.registry import ESCALATED, WIDENED, StrategyName, label, strategy_name
from agents.verify.repair import judged, repair
from agents.verify.support import support_judge
from core.errors import LongqaError


@dataclass
class AskOptions:
    strategy: str = "auto"  # auto, full_context/full, retrieve_reason/rag, chain_of_agents/coa
    prefer: str = "balanced"
    k: int = 8
    verify: bool = True
    strict: bool = False


def resolve(draft: Draft, corpus: Corpus, trace: Trace) -> list[Citation]:
    """Citations for every known marker of every sentence; unknown markers counted in the trace."""
    parsed = parse_markers(draft.text, draft.evidence)
    trace.unknown_markers += parsed.unknown
    if parsed.unknown:
        trace.events.append(f"{parsed.unknown} marker(s) naming no shown block dropped")
    citations: list[Citation] = []
    for sentence in parsed.sentences:
        for marker in sentence.markers:
            chunk = draft.evidence.chunk(marker)
            if chunk is None:
                continue
            document = corpus.document(chunk.span.path)
            citations.append(cite(sentence, marker, chunk, document, draft.facts.get(marker)))
    return citations


class Answerer:
    """Answers questions over one corpus with one backend (and a judge, by default the same)."""

    def __init__(
        self,
        corpus: Corpus,
        backend: Backend,
        judge: Backend | None = None,
        options: AskOptions | None = None,
    ) -> None:
        self.corpus = corpus
        self.backend = backend
        self.judge_backend = judge or backend
        self.options = options or AskOptions()

    def ask(
        self,
        question: str,
        on_token: TokenSink | None = None,
        on_status: Callable[[str], None] | None = None,
        options: AskOptions | None = None,
    ) -> Answer:
        options = options or self.options
        question = " ".join(question.split())
        if not question:
            raise LongqaError("the question is empty")
        if not self.corpus.chunks():
            raise LongqaError("the collection is empty: ingest some documents first")
        trace = Trace()
        caller = Caller(self.backend, trace, on_status)
        status = on_status or (lambda _: None)
        name = strategy_name(options.strategy)
        if name == StrategyName.AUTO:
            status("choosing how to read")
            decision = route(question, self.corpus, self.backend, options.prefer, options.k)
        else:
            decision = Decision(name, "chosen by the user")
        trace.decision, trace.reason = decision.strategy, decision.reason
        trace.estimates = dict(decision.estimates)
        # after a retrieve_reason refusal, read more (Self-Route); not on a small model, whose
        # longer readings never turned a refusal into a right answer (benchmarks/results/eval-examples)
        hold = (
            HoldRefusal(on_token)
            if name == StrategyName.AUTO
            and decision.strategy == StrategyName.RETRIEVE_REASON
            and not self.backend.packaged
            else None
        )
        k = decision.k or options.k
        context = Context(
            self.corpus,
            caller,
            on_token=hold or on_token,
            on_status=status,
            k=k,
            scope=decision.scope,
            hops=(
                follow_ups(question, self.corpus, self.backend, options.prefer, k)
                if decision.strategy == StrategyName.RETRIEVE_REASON
                else 0
            ),
        )
        draft = STRATEGIES[decision.strategy].answer(question, context)
        strategy = decision.strategy
        if hold is not None:
            if draft.refused:
                draft, strategy = self._escalate_or_refuse(
                    question, draft, caller, options, on_token, status, context.k
                )
            else:
                hold.release()
        return self._finish(question, draft, strategy, trace, options, status)

    def _escalate_or_refuse(
        self,
        question: str,
        refused: Draft,
        caller: Caller,
        options: AskOptions,
        on_token: TokenSink | None,
        status: Callable[[str], None],
        k: int,
    ) -> tuple[Draft, str]:
        """Read more after a refusal, but let the refusal stand unless what the longer reading
        answers is supported by its own citations: a guess must not overturn a right refusal.
        The longer reading's answer is held back (not streamed) until it is checked."""
        held = HoldRefusal(on_token, hold_all=True)
        draft, strategy = self._escalate(question, refused, caller, options, held, status, k)
        if draft is refused or draft.refused or is_refusal(draft.text):
            held.release()
            return draft, strategy
        status(
            f"checking that the citations of the longer reading support it, with {self.judge_backend.spec}"
        )
        if self._grounded(question, draft, caller.trace):
            held.release()
            return draft, strategy
        caller.trace.events.append(
            f"{label(strategy)}: its answer is not supported by its own citations, so the refusal stands"
        )
        if on_token:
            on_token(refused.text)
        return refused, StrategyName.RETRIEVE_REASON

    def _grounded(self, question: str, draft: Draft, trace: Trace) -> bool:
        """Whether every sentence of ``draft`` that cites has a citation the judge finds supporting
        it, and at least one does."""
        citations = resolve(draft, self.corpus, Trace())  # counted once, when the answer is finished
        if not citations:
            return False
        supported: dict[str, bool] = {}
        judge = support_judge(Caller(self.judge_backend, trace))
        for citation in judged(question, citations, draft.evidence, judge):
            supported[citation.sentence] = supported.get(citation.sentence, False) or bool(citation.supported)
        return all(supported.values())

    def _escalate(
        self,
        question: str,
        refused: Draft,
        caller: Caller,
        options: AskOptions,
        on_token: TokenSink | None,
        status: Callable[[str], None],
        k: int,
    ) -> tuple[Draft, str]:
        """After a retrieve_reason refusal, read more (after Self-Route) — within the preference's
        budget: a chain of agents over the whole collection or the documents retrieval points at;
        if even that is over budget, retrieval twice as wide; else the refusal stands."""
        trace = caller.trace
        plan = plan_chain(question, self.corpus, self.backend, options.prefer, k)
        if plan.strategy == StrategyName.CHAIN_OF_AGENTS:
            trace.events.append(
                f"retrieve_reason found no answer: escalated to chain_of_agents over {plan.reason}"
            )
            status("no answer in the retrieved evidence: reading more with a chain of agents")
            # its own numbering of the blocks (document order), not the refused draft's: the same
            # segments then send the same prefixes as any other chain of agents, and reuse them
            context = Context(self.corpus, caller, on_token=on_token, on_status=status, scope=plan.scope)
            return STRATEGIES[StrategyName.CHAIN_OF_AGENTS].answer(question, context), ESCALATED
        wider = max(plan.k or 0, 2 * k)
        if wider > k:
            trace.events.append(
                f"retrieve_reason found no answer; a chain of agents is over the {options.prefer} "
                f"budget ({plan.reason}): retrieved again {wider} chunks wide"
            )
            status(f"no answer in the retrieved evidence: searching wider ({wider} chunks)")
            context = Context(
                self.corpus, caller, on_token=on_token, on_status=status, k=wider, evidence=refused.evidence
            )
            return STRATEGIES[StrategyName.RETRIEVE_REASON].answer(question, context), WIDENED
        trace.events.append("retrieve_reason found no answer and nothing wider fits the budget")
        return refused, StrategyName.RETRIEVE_REASON

    def _finish(
        self,
        question: str,
        draft: Draft,
        strategy: str,
        trace: Trace,
        options: AskOptions,
        status: Callable[[str], None],
    ) -> Answer:
        refused = draft.refused or is_refusal(draft.text)
        removed: list[str] = []
        if not refused:
            draft, removed = _drop_obeyed(draft, trace)
            refused = draft.refused
        citations = [] if refused else resolve(draft, self.corpus, trace)
        if citations and options.verify:
            status(f"checking {len(citations)} citation(s) with {self.judge_backend.spec}")
            judge = support_judge(Caller(self.judge_backend, trace))
            citations = judged(question, citations, draft.evidence, judge)
            if any(c.supported is False for c in citations):
                status("looking for the passages that support the sentences their citations do not")
                fixed = repair(question, draft.text, draft.evidence, citations, self.corpus, judge, trace)
                draft, citations = dataclasses.replace(draft, text=fixed.text), fixed.citations
        text = draft.text.strip()
        if options.strict and not refused:
            text, citations, unsupported = _strict(draft, citations)
            removed += unsupported
            refused = not citations
        short = ""
        if not refused and draft.short is not None:
            short = draft.short  # written in code from what was found (collect's count or list)
        elif not refused:
            status("picking out the short answer")
            short = short_answer(question, text, Caller(self.backend, trace))
        return Answer(
            question=question,
            text=text,
            citations=citations,
            strategy=strategy,
            refused=refused,
            trace=trace,
            removed_sentences=removed,
            short=short,
        )


def _drop_obeyed(draft: Draft, trace: Trace) -> tuple[Draft, list[str]]:
    """The draft without the sentences that only follow an instruction found in a chunk it was
    shown (each dropped one named in the trace); the refusal when nothing else is left."""
    instructions = find(draft.evidence.by_marker.values())
    if not instructions:
        return draft, []
    kept: list[Sentence] = []
    dropped: list[str] = []
    for sentence in parse_markers(draft.text, draft.evidence).sentences:
        instruction = obeyed(sentence.text, instructions)
        if instruction is None:
            kept.append(sentence)
            continue
        dropped.append(sentence.text)
        trace.events.append(
            f"a sentence followed an instruction found in {instruction.where} and was dropped"
        )
    if not dropped:
        return draft, []
    if not kept:
        return dataclasses.replace(draft, text=REFUSAL, refused=True), dropped
    text = " ".join(_with_markers(s.text, s.markers) for s in kept)
    return dataclasses.replace(draft, text=text), dropped


def _with_markers(body: str, markers: list[int]) -> str:
    """A sentence with its markers put back before its full stop."""
    tags = "".join(f"[S{m}]" for m in markers)
    if not tags:
        return body
    return f"{body[:-1]} {tags}{body[-1]}" if body[-1:] in ".!?" else f"{body} {tags}"


def _strict(draft: Draft, citations: list[Citation]) -> tuple[str, list[Citation], list[str]]:
    """Keep only the sentences at least one supported citation backs."""
    parsed = parse_markers(draft.text, draft.evidence)
    kept_sentences, removed = [], []
    supported = {(c.sentence, c.marker) for c in citations if c.supported}
    for sentence in parsed.sentences:
        if any((sentence.text, m) in supported for m in sentence.markers):
            markers = [m for m in sentence.markers if (sentence.text, m) in supported]
            kept_sentences.append(_with_markers(sentence.text, markers))
        else:
            removed.append(sentence.text)
    kept = [c for c in citations if (c.sentence, c.marker) in supported]
    text = " ".join(kept_sentences) if kept_sentences else REFUSAL
    return text, kept, removed
