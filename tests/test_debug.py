"""`./build.sh debug`: QEMU stopped with its GDB server, GDB attached.

GDB runs in batch mode (DEBUG_GDB_BATCH) through the same script a student
types into: stop at stage 1's first instruction in real mode, at a stage 2
label through the generated label variables, and at kernel_main by name.
"""
import os
import re
import subprocess

import pytest

from conftest import BUILD, ROOT
from debug.gdb_session import GDB_REGISTER_NAMES, label_variables, read_map, write_label_script

pytestmark = pytest.mark.skipif(not subprocess.run(["sh", "-c", "command -v gdb"],
                                                   capture_output=True).stdout,
                                reason="gdb is not installed (./build.sh deps)")

COMMANDS = """\
stage1
printf "STOP1 cs=%#x pc=%#x\\n", $cs, $pc
real-mode-regs
x16 4
break *$stage2_main
continue
printf "STOP2 pc=%#x var=%#x\\n", $pc, $stage2_main
kernel
printf "STOP3 pc=%#x\\n", $pc
bt
"""


def symbol(elf, name):
    out = subprocess.run(["nm", str(elf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(rf"^([0-9a-f]+) \w {re.escape(name)}$", out, re.M).group(1), 16)


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    commands = tmp_path_factory.mktemp("gdb") / "commands.gdb"
    commands.write_text(COMMANDS)
    env = dict(os.environ, BUILD_DIR=str(BUILD), DEBUG_GDB_BATCH=str(commands))
    env.pop("GDB_PORT", None)
    result = subprocess.run([str(ROOT / "build.sh"), "debug"], capture_output=True,
                            text=True, env=env, timeout=300)
    return result, result.stdout + result.stderr


def test_stops_at_stage1_in_real_mode(session):
    result, out = session
    assert result.returncode == 0, out
    assert "STOP1 cs=0 pc=0x7c00" in out, out
    # The stop hook and real-mode-regs: CS:IP, the physical address, the label.
    assert "[real mode] cs:ip = 0000:7c00, physical 0x07c00  <stage1: start>" in out, out
    assert "cs:ip  0000:7c00  physical 0x07c00" in out, out
    assert re.search(r"cr0\s+0x[0-9a-f]+ \(PE=0: real mode\)", out), out
    # 16-bit decoding: stage 1 starts with a short jump over the BPB.
    start = read_map(BUILD / "bootloader" / "stage1.map")
    skip = dict(start)["skip_parameter_block"]
    assert re.search(rf"=> 0000:7c00 0x07c00  eb [0-9a-f]{{2}}\s+jmp\s+{skip:#x}", out), out


def test_stops_at_a_loader_label(session):
    _, out = session
    stage2_main = dict(read_map(BUILD / "bootloader" / "stage2.map"))["stage2_main"]
    assert f"STOP2 pc={stage2_main:#x} var={stage2_main:#x}" in out, out
    assert "<stage2: stage2_main>" in out, out


def test_stops_at_kernel_main_by_name(session):
    _, out = session
    address = symbol(BUILD / "kernel" / "kernel.elf", "kernel_main")
    assert f"STOP3 pc={address:#x}" in out, out
    assert re.search(r"#0 +kernel_main \(boot_info=0x[0-9a-f]+\) at main\.c:\d+", out), out
    assert re.search(r"#1 +0x[0-9a-f]+ in kernel_entry \(\)", out), out


def test_no_qemu_is_left_behind(session):
    _, out = session
    pid = int((BUILD / "debug" / "qemu.pid").read_text())
    assert not os.path.exists(f"/proc/{pid}"), f"QEMU {pid} still runs\n{out}"


def test_label_variables(tmp_path):
    variables = label_variables(BUILD / "bootloader")
    names = [name for name, _, _, _ in variables]
    assert len(names) == len(set(names)), "two labels share a GDB variable"
    assert not set(names) & GDB_REGISTER_NAMES
    by_name = {name: address for name, address, _, _ in variables}
    assert by_name["stage2_main"] == dict(read_map(BUILD / "bootloader" / "stage2.map"))["stage2_main"]
    assert by_name["start"] == 0x7C00
    # Local labels: print_char.wait_for_uart -> $print_char_wait_for_uart
    assert all(re.fullmatch(r"\w+", name) for name in names)
    write_label_script(BUILD / "bootloader", tmp_path / "labels.gdb")
    script = (tmp_path / "labels.gdb").read_text()
    assert f"set $stage2_main = {by_name['stage2_main']:#x}\n" in script
