"""longqa's Python API: ask questions of long documents and get answers citing exact spans.

    import longqa

    papers = longqa.Collection.open(".longqa/papers")  # an index folder (made by the first add)
    papers.add(["~/papers", "manual.pdf"])               # ingested; unchanged files are not read again
    for hit in papers.search("free disk space", k=3):
        print(hit.chunk.label, hit.score)
    answer = papers.ask("How much free disk space do I need?", strategy="rag")
    print(answer.text)                                   # with [S#] markers
    for citation in answer.citations:
        print(citation.marker, citation.label, citation.quote, citation.supported)

A thin façade: every name here is one of the application's own (``app``, ``agents``,
``retrieval``, ``core``), and every call goes through the services the web UI and ``longqa serve``
call, so the four doors behave alike. Settings come as everywhere: defaults, ``longqa.toml``,
``LONGQA_*`` variables (``load_settings(**overrides)``), or a ``Settings`` given to ``open``.
Errors a user can meet are ``LongqaError``s whose message is one line. The names in ``__all__``
are the public surface (pinned by tests/longqa/test_imports.py); nothing else is.
"""

from __future__ import annotations

from agents.answer import Answer, Citation
from app.settings import Settings, load_settings
from core.errors import LongqaError
from ingest.document import Span
from longqa.collection import Collection
from retrieval.indexer import IngestReport
from retrieval.search import Hit

__version__ = "0.1.0"

__all__ = [
    "Answer",
    "Citation",
    "Collection",
    "Hit",
    "IngestReport",
    "LongqaError",
    "Settings",
    "Span",
    "__version__",
    "load_settings",
]
