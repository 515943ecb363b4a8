"""The Constant Contact setup wizard."""
