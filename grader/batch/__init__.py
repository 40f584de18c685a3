"""``grader batch``: grade every submission of a cohort, resumably, with a cohort summary.

``intake`` finds the entries of ROOT (folders and .zip files), names the students, hashes
what they handed in and stages it safely; ``run`` decides what needs grading, writes each
student's results atomically as they arrive and rebuilds the cohort files; ``pool`` runs
local job processes and ``cluster`` the same tasks on Dask; ``job`` grades one entry in a
process that keeps its sandbox (``sandboxes``) for the whole batch; ``tasks`` holds what
travels between them and ``records`` the per-student record the cohort files are built
from; ``summary`` renders ``grades.csv`` and ``summary.html`` (``charts`` its plots);
``manual`` keeps ``manual.csv``, the tutor's marks (``sheets``: CSV a spreadsheet opens),
``marking`` the summary's views for marking them and ``pages`` renders a student's pages
again with them; ``similarity`` finds the pairs of submissions whose code is alike;
``progress`` shows how far the batch is.
"""
