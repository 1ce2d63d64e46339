"""Commands of this feature (STUB)."""
