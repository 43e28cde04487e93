"""Running a build tool (nasm, ld, mkimage) from a test."""
import shutil
import subprocess

import pytest

TOOL_TIMEOUT_SECONDS = 60


def run_tool(cmd):
    """Run `cmd` (its items may be paths); fail the test, with the tool's
    output, when it is missing or does not succeed."""
    if shutil.which(str(cmd[0])) is None:
        pytest.fail(f"{cmd[0]} is not installed: run ./build.sh deps")
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                            timeout=TOOL_TIMEOUT_SECONDS, check=False)
    assert result.returncode == 0, \
        f"{' '.join(map(str, cmd))} failed:\n{result.stdout}{result.stderr}"
    return result
