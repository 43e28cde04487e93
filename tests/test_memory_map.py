"""The memory map sanitiser's host unit tests (tests/unit/test_memory_map.c,
libk/memory_map.c), one pytest test each (see support/unit_program.py)."""
from support.unit_program import unit_tests

test_memory_map = unit_tests("test_memory_map")
# The same tests, program and libk built under AddressSanitizer and UBSan
# (tests/Makefile): a sanitizer report ends the program with a failure.
test_memory_map_asan = unit_tests("test_memory_map-asan")
