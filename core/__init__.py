"""What every layer shares, below them all: the error family whose messages users read
(``core.errors``), where longqa keeps what it assembles once (``core.cache``), and the file
guarantees (``core.files``: atomic writes, content hashes, safe reads).

It imports nothing from the rest of longqa.
"""
