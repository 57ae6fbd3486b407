"""The application layer, the one place that wires the parts below (ingest, retrieval, agents)
together. By job, each importing only those before it:

- ``settings``, ``records``, ``journal``: the settings object, checked JSON records, append-only
  journals that runs resume from;
- ``wiring``: settings in, ready parts out (the embedder, the index, the backend, the answerer);
- ``batch``: a file of questions in, answers out; ``evaluation/``: scoring strategies on a dataset;
- ``services/``: what the web UI calls;
- ``http/``: the HTTP API (``longqa serve``) over those services;
- ``cli/``: the terminal."""
