"""Resumable uploads: the browser sends a large file to storage in parts, bypassing the web process."""
