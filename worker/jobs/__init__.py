"""Media jobs, one module per kind of entry."""
