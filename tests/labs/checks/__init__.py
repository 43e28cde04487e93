"""One module per lab, each defining LAB (a grading.Lab); catalog.py lists
them in the order of the boot."""
