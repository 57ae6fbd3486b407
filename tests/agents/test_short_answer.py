"""The short answer: the key value or phrase of an answer, for reading at a glance and for EM."""

from __future__ import annotations

from agents.answer import Trace
from agents.models.calls import Caller
from agents.orchestrator import Answerer, AskOptions
from agents.reading.short_answer import short_answer
from app.evaluation.dataset import EvalItem
from app.evaluation.scoring import score
from tests.agents.fakes import ScriptedChat, scripted


class ShortScripted(ScriptedChat):
    """Answers the short-answer prompt from the script too (the usual fake answers it off-script)."""

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):  # type: ignore[no-untyped-def]
        self.prompts.append(messages)
        return super(ScriptedChat, self)._generate(messages, stop=stop, run_manager=run_manager, **kwargs)


def caller_answering(*replies: str) -> tuple[ShortScripted, Caller]:
    _, backend = scripted()
    from langchain_core.messages import AIMessage

    chat = ShortScripted(messages=iter(AIMessage(content=r) for r in replies))
    backend.chat = chat
    return chat, Caller(backend, Trace())


def test_an_answer_that_is_already_a_phrase_is_its_own_short_answer_with_no_call() -> None:
    chat, caller = caller_answering()
    assert short_answer("How much memory?", "64 MB [S1].", caller) == "64 MB"
    assert chat.prompts == [] and caller.trace.calls == []


def test_a_sentence_is_reduced_to_its_key_value_by_one_small_call() -> None:
    chat, caller = caller_answering("Short answer: 50 MB [S1].\nbecause the manual says so")
    answer = "You should have at least 50 MB of free disk space to compile and install it [S1]."
    assert short_answer("How much disk space?", answer, caller) == "50 MB"
    prompt = str(chat.prompts[0][-1].content)
    assert "[S1]" not in prompt and "Question: How much disk space?" in prompt  # markers are noise
    assert [c.role for c in caller.trace.calls] == ["short"]


def test_a_reply_no_shorter_than_the_answer_gives_no_short_answer() -> None:
    answer = "The encoder escapes forward slashes only when it is asked to do so [S2]."
    _, caller = caller_answering(answer)
    assert short_answer("When are slashes escaped?", answer, caller) == ""


def test_every_answer_carries_its_short_answer_and_a_refusal_none(small_corpus) -> None:  # type: ignore[no-untyped-def]
    _, backend = scripted(["You need at least 50 MB of free disk space to compile and install it [S1]."])
    answer = Answerer(small_corpus, backend, options=AskOptions(strategy="full", verify=False)).ask(
        "How much disk space?"
    )
    assert answer.short == "You need at"  # the fake's short answer: the answer's first three words
    assert answer.to_dict()["short"] == answer.short
    _, backend = scripted(["The documents do not say."])
    refused = Answerer(small_corpus, backend, options=AskOptions(strategy="full", verify=False)).ask("Price?")
    assert refused.refused and refused.short == ""


def test_exact_match_scores_the_short_answer(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from agents.answer import Answer

    item = EvalItem(id="q", question="How much disk space?", answers=("50 MB",), docs=(tmp_path,))
    answer = Answer(
        "How much disk space?", "At least 50 MB is needed [S1].", [], "full_context", False, Trace()
    )
    assert score(item, "full_context", answer).em == 0.0
    answer.short = "50 MB"
    result = score(item, "full_context", answer)
    assert result.em == 1.0 and result.f1 == 1.0 and result.short == "50 MB"
