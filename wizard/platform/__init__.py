"""Plumbing under everything: extensions, settings, crypto and keys, pool, logs."""
