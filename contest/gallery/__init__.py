"""The public side of a contest: the gallery of approved entries and each entry's page."""
