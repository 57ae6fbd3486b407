"""What the web UI (and ``longqa serve``) calls: collections and what is added to them
(``collections``, ``intake``, ``uploads``), answering one question with streamed progress
(``assistant``), work on a thread of its own (``jobs``), a citation's source ready to show
(``sources``), evaluation reports (``reports``) and which addresses a request may name (``hosts``).
Streamlit-free and HTTP-free, so each is tested without a browser."""
