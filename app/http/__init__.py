"""The HTTP API (``longqa serve``): FastAPI routes over the same services the web UI calls
(``app.services``), never around them. By job:

- ``server``: the FastAPI app, its routes put together, and running it with uvicorn;
- ``guard``: who may call it: the bearer token, the Host and Origin rule on loopback, body sizes;
- ``errors``: a ``LongqaError`` as JSON with its one line and its status (400, 404, 409, 413, 503);
- ``state``: what every route shares (the settings, the collections, the jobs);
- ``jobs``: ingests and read-aheads running as jobs, and ``/jobs``;
- ``collections``: collections and their documents (uploads, listing, removal);
- ``answers``: search and ask, streamed as server-sent events or answered as one JSON;
- ``chat``: the OpenAI-compatible ``/v1/chat/completions`` and ``/v1/models``.

Nothing here decides what the services decide (checks, caps, messages); it only maps requests
onto them and their outcomes onto HTTP."""
