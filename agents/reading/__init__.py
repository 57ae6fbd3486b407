"""How a question is read: the strategies (``strategies/``: one file each, and the names people
type), the router that asks each strategy its cost and chooses (``router``), reading a collection
ahead of time (``warm``) and the short answer drawn from a long one (``short_answer``)."""
