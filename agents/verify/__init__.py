"""Whether the cited words support a claim, and a citation repaired when they do not.

``judge``: the plain yes/no; ``support``: the default judge (grounding, fact checks, cloze, then the
yes/no) and the threshold a verdict is read at; ``repair``: a better citation searched for and
judged."""
