"""Checks of assignment ``ps5`` (seed 000, Problem set 5)."""
