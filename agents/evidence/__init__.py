"""What the model is shown and how its words map back to exact spans; never calls a model.

``blocks``: the numbered ``[S#]`` blocks a prompt shows; ``corpus``: the collection a strategy
reads; ``sentences``: the one way a passage is cut into sentences (lines, in code) and the one
grounding of a claim in them; ``citations``: markers to citations of exact spans; ``claims``: the
checkable facts of a claim; ``grounds``: where a claim rests, as the support judge reads it;
``injection``: instructions hidden in documents."""
