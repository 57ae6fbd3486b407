"""Answering (DESIGN.md §5-7). By job, each subpackage importing only the leaves and those before it:

- ``answer``, ``prompts``: leaves: what an answer is; every prompt's words;
- ``models/``: a chat model and what budgets need; one call, bounded and measured;
- ``evidence/``: what the model is shown and how its words map back to exact spans; never calls a model;
- ``verify/``: whether the cited words support a claim (the judge), and repairing a citation that does not;
- ``reading/``: how a question is read: the strategies, the router that chooses one, warming;
- ``orchestrator``: one question end to end, on top of them all.

Imports from retrieval/, ingest/ and core/ below, never from app/ or ui/ above."""
