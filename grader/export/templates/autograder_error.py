"""Adds the grader's error output to the "autograder error" results.json, as a test only staff see.

    python3 -I autograder_error.py RESULTS_JSON LOG EXIT_STATUS

run_autograder calls this when the grader failed; results.json already holds the visible
"autograder error, not your fault" test. Standard library only, and Python 3.6 or newer: it
must work when the grader's own environment does not.
"""

import json
import os
import sys

TAIL = 6000  # characters of the log: the traceback's end is what says what went wrong


def main(results_path, log_path, status):
    with open(results_path, encoding="utf-8") as handle:
        results = json.load(handle)
    try:
        with open(log_path, encoding="utf-8", errors="replace") as handle:
            log = handle.read()[-TAIL:]
    except OSError as exc:
        log = f"(no log: {exc})"
    timed_out = status in ("124", "137")
    results["tests"].append({
        "name": "Autograder error details (course staff only)",
        "score": 0,
        "max_score": 0,
        "status": "failed",
        "output": "exit status {}{}\n\n{}".format(
            status, " (stopped at run_autograder's deadline)" if timed_out else "", log or "(no output)"),
        "output_format": "text",
        "visibility": "hidden",
        "extra_data": {"outcome": "grader-error", "exit_status": status},
    })
    partial = results_path + ".partial"
    with open(partial, "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=2)
    os.replace(partial, results_path)


if __name__ == "__main__":
    main(*sys.argv[1:4])
