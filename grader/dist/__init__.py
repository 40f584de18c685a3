"""``grader dist student``: the bundle a course hands out to students.

``bundle`` assembles it from an allow-list (skeletons, helper files, images, an empty
answers.yaml, README, CI files and a wheel of the grader); ``public_checks`` writes the
exercise modules with their public checks only; ``hints`` records what the catalogued
mistakes return so that hints work without their code; ``fingerprint`` keys those records.
"""
