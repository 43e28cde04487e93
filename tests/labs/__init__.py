"""The course's labs: markers in the real sources (markers.py), the labs
and their checks (catalog.py, checks/), the grader (grading.py) and the
command behind `./build.sh lab` and `./build.sh grade` (lab.py)."""
