"""``grader batch``: grade every submission of a cohort, resumably, with a cohort summary.

``intake`` finds the entries of ROOT (folders and .zip files), names the students, hashes
what they handed in and stages it safely; ``job`` grades one staged entry in a process
that keeps its sandbox for the whole batch; ``run`` schedules the jobs, writes each
student's results atomically and resumes; ``records`` reads and writes the small
per-student record the cohort files are built from; ``summary`` renders ``summary.html``
and ``grades.csv``; ``progress`` shows how far the batch is; ``cluster`` runs the same
jobs on a Dask cluster.
"""
