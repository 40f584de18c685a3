"""Checks of assignment ``basics`` (seed 002): eigen, parameter counting, conv2d, attention."""
