"""grader: checks PyTorch exercises against reference solutions, with student code sandboxed.

This package's top level imports nothing: the sandbox worker imports ``grader.sandbox``
and must not pull in checks, reference solutions or torch-heavy modules by accident.
"""

__version__ = "0.1.0"
