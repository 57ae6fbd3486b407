"""The Milvus-backed index store: the folder store's interface over a Milvus Lite file or a Milvus
server's collection (``--index milvus:FILE.db``, ``--index milvus://HOST:PORT/NAME``).

Needs the ``milvus`` extra (pymilvus, milvus-lite); ``retrieval.milvus.client`` is its one door.
"""
