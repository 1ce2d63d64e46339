"""The organizers' figures: what the province asks to see of an edition, with charts and CSV."""
