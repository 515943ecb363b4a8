"""Helpers the tests share: test modules import them here, never from each other."""
