"""pytest marks shared by test modules."""
import pytest

from support.paths import DOCS_TOOLCHAIN, build_toolchain


def docs_toolchain_only(what):
    """Skip, on a build of another toolchain, a test of what the docs show
    from the build: `what` says what (e.g. "the docs quote"), and those
    show the DOCS_TOOLCHAIN build, whose addresses and sizes differ by
    design from any other's."""
    return pytest.mark.skipif(
        build_toolchain() != DOCS_TOOLCHAIN,
        reason=f"{what} the TOOLCHAIN={DOCS_TOOLCHAIN} build; this build is "
               f"TOOLCHAIN={build_toolchain()}, whose addresses and sizes differ by design")
