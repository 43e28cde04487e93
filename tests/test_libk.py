"""libk's host unit tests (tests/unit/test_libk.c), one pytest test each
(see support/unit_program.py)."""
from support.unit_program import unit_tests

test_libk = unit_tests("test_libk")
