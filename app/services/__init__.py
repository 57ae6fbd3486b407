"""What the web UI calls: collections and what is added to them (``collections``, ``intake``,
``uploads``), answering one question with streamed progress (``assistant``), work on a thread of
its own (``jobs``), a citation's source ready to show (``sources``) and evaluation reports
(``reports``). Streamlit-free, so each is tested without a browser."""
