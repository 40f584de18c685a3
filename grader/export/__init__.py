"""Autograders for course platforms, built from this checkout: ``grader export gradescope``.

``gradescope`` builds the zip Gradescope takes (``setup.sh``, ``run_autograder``, the grader and
one assignment's checks, reference and helper files); ``pins`` says which versions it installs.
"""
