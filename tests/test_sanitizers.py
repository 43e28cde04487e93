"""The sanitizer builds the suite runs besides the plain ones (tests/Makefile
builds them, so ./build.sh test does): mkimage-asan (image/Makefile), and
the unit programs NAME-asan with libk's sanitized host archive
(tests/Makefile, libk/Makefile). conftest.py runs the sanitized_mkimage
tests with mkimage-asan and fails any test during which a report was
written; tests/test_libk.py and test_memory_map.py run the -asan
programs."""
import subprocess

import pytest

from support.paths import BUILD, ROOT

SANITIZE_FLAGS = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer",
                  "-fno-sanitize-recover=all"]
SANITIZED_LIBK = BUILD / "host-asan" / "libk" / "libk_host.a"


def undefined_symbols(path):
    result = subprocess.run(["nm", "--undefined-only", "--format=posix", str(path)],
                            capture_output=True, text=True, check=True)
    return {line.split()[0] for line in result.stdout.splitlines() if line and not line.endswith(":")}


@pytest.mark.parametrize("program", ["image/mkimage-asan", "tests/test_libk-asan",
                                     "tests/test_memory_map-asan"])
def test_the_sanitized_programs_are_instrumented(program):
    path = BUILD / program
    assert path.exists(), f"{path} is missing: run ./build.sh test (or make -C tests)"
    symbols = undefined_symbols(path)
    assert "__asan_init" in symbols, f"{path} is not built with AddressSanitizer"
    assert any(s.startswith("__ubsan_handle_") for s in symbols), \
        f"{path} is not built with UndefinedBehaviorSanitizer"


def test_the_plain_mkimage_is_not():
    assert "__asan_init" not in undefined_symbols(BUILD / "image" / "mkimage")


def test_the_sanitized_libk_calls_the_sanitizer_runtime_by_its_own_names():
    """libk/Makefile prefixes every symbol with libk_, undefined ones too; the
    runtime's entry points must get their names back or the link fails."""
    symbols = undefined_symbols(SANITIZED_LIBK)
    assert "__asan_init" in symbols
    assert not [s for s in symbols if s.startswith(("libk___asan_", "libk___ubsan_"))], symbols


def test_the_sanitized_libk_reports_an_overflow_inside_libk(tmp_path):
    """A read past a buffer inside libk's own code (libk_strlen on bytes
    with no NUL) is caught: the instrumentation survived the renaming."""
    source = tmp_path / "overflow.c"
    source.write_text(
        "#include <stdlib.h>\n"
        "#include <string.h>\n"
        "#include \"libk_host.h\"\n"
        "int main(void)\n{\n"
        "    char *bytes = malloc(8);\n"
        "    memset(bytes, 'x', 8); /* no NUL */\n"
        "    return (int)libk_strlen(bytes);\n}\n")
    program = tmp_path / "overflow"
    subprocess.run(["cc", "-std=c11", "-g", *SANITIZE_FLAGS, f"-I{ROOT / 'tests' / 'unit'}", f"-I{ROOT / 'libk' / 'include'}",
                    "-o", str(program), str(source), str(SANITIZED_LIBK)], check=True)
    result = subprocess.run([str(program)], capture_output=True, text=True,
                            env={"ASAN_OPTIONS": "detect_leaks=0"})
    assert result.returncode != 0
    assert "AddressSanitizer: heap-buffer-overflow" in result.stderr, result.stderr
    # The report names the source line (the debug information keeps
    # libk's own function names, so the file is what identifies libk).
    assert "libk/string.c" in result.stderr, result.stderr
