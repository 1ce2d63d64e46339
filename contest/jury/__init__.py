"""The jury: judges of a contest, rounds, the deal of entries to judges, and their scores."""
