"""Hostile and careless inputs for ``hiero-replay`` (issue 13): the set-up of the cases and their builders, by category."""
