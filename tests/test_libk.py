"""libk's host unit tests (tests/unit/test_libk.c), one pytest test each
(see support/unit_program.py)."""
from support.unit_program import unit_tests

test_libk = unit_tests("test_libk")
# The same tests, program and libk built under AddressSanitizer and UBSan
# (tests/Makefile): a sanitizer report ends the program with a failure.
test_libk_asan = unit_tests("test_libk-asan")
