"""Shared pytest fixtures: where the source tree and the build output are.

`./build.sh test` builds everything first and points BUILD_DIR at the build
directory; running pytest by hand works the same after `./build.sh build`.
"""
import os
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUILD = pathlib.Path(os.environ.get("BUILD_DIR", ROOT / "build")).resolve()

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def build_dir():
    return BUILD


@pytest.fixture(scope="session")
def mkimage():
    tool = BUILD / "image" / "mkimage"
    if not tool.exists():
        pytest.fail(f"{tool} is missing: run ./build.sh build first")
    return tool
