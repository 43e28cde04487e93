"""`./build.sh debug`: QEMU stopped with its GDB server, GDB attached.

GDB runs in batch mode (DEBUG_GDB_BATCH) through the same script a student
types into: stop at stage 1's first instruction in real mode, at a stage 2
label through the generated label variables, and at kernel_main by name.
"""
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from debug.gdb_session import GDB_REGISTER_NAMES, label_variables, read_map, write_label_script
from support.paths import BUILD, ROOT
from support.symbols import symbol

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


def run_session(tmp_path):
    """./build.sh debug with COMMANDS in batch mode: (result, everything printed)."""
    commands = tmp_path / "commands.gdb"
    commands.write_text(COMMANDS)
    env = dict(os.environ, BUILD_DIR=str(BUILD), DEBUG_GDB_BATCH=str(commands))
    env.pop("GDB_PORT", None)
    result = subprocess.run([str(ROOT / "build.sh"), "debug"], capture_output=True,
                            text=True, env=env, timeout=300)
    return result, result.stdout + result.stderr


def process_is_gone(pid):
    try:
        state = pathlib.Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return True
    return state == "Z"     # dead, not yet collected by its parent


# One test function for everything that starts a session: a session locks
# the build directory, and pytest-xdist would run separate tests at once.
def test_debug_session(tmp_path):
    result, out = run_session(tmp_path)
    assert result.returncode == 0, out

    # 1. Stage 1's first instruction, in real mode: the stop hook and
    #    real-mode-regs show CS:IP, the physical address and the label.
    assert "STOP1 cs=0 pc=0x7c00" in out, out
    assert "[real mode] cs:ip = 0000:7c00, physical 0x07c00  <stage1: start>" in out, out
    assert "cs:ip  0000:7c00  physical 0x07c00" in out, out
    assert re.search(r"cr0\s+0x[0-9a-f]+ \(PE=0: real mode\)", out), out
    # 16-bit decoding: stage 1 starts with a short jump over the BPB.
    skip = dict(read_map(BUILD / "bootloader" / "stage1.map"))["skip_parameter_block"]
    assert re.search(rf"=> 0000:7c00 0x07c00  eb [0-9a-f]{{2}}\s+jmp\s+{skip:#x}", out), out

    # 2. A loader label, through its generated variable.
    stage2_main = dict(read_map(BUILD / "bootloader" / "stage2.map"))["stage2_main"]
    assert f"STOP2 pc={stage2_main:#x} var={stage2_main:#x}" in out, out
    assert "<stage2: stage2_main>" in out, out

    # 3. kernel_main by name, in 64-bit mode, with source and a backtrace.
    # GDB puts a breakpoint on a function after its prologue, as the line
    # table tells: at its first byte with gcc, a few bytes in with clang.
    kernel_main = symbol(BUILD / "kernel" / "kernel.elf", "kernel_main")
    address, size = kernel_main.address, kernel_main.size
    stop = re.search(r"STOP3 pc=(0x[0-9a-f]+)", out)
    assert stop, out
    stop = int(stop.group(1), 16)
    assert address <= stop < address + min(size, 64), out
    # gcc records the file as given (main.c), clang with its directory.
    assert re.search(r"#0 +kernel_main \(boot_info=0x[0-9a-f]+\) at (\S+/)?main\.c:\d+", out), out
    assert re.search(r"#1 +0x[0-9a-f]+ in kernel_entry \(\)", out), out

    # 4. GDB is done: its QEMU is gone.
    pid = int((BUILD / "debug" / "qemu.pid").read_text())
    assert process_is_gone(pid), f"QEMU {pid} still runs\n{out}"

    # 5. Even when the session itself is killed outright (SIGKILL, no
    #    chance to clean up), QEMU goes with it.
    (BUILD / "debug" / "qemu.pid").unlink()
    commands = tmp_path / "wait.gdb"
    commands.write_text("shell sleep 60\n")
    session = subprocess.Popen([sys.executable, str(ROOT / "tests" / "debug" / "gdb_session.py"),
                                "--build", str(BUILD), "--batch", str(commands)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        pid_file = BUILD / "debug" / "qemu.pid"
        deadline = time.monotonic() + 30
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        pid = int(pid_file.read_text())
        assert not process_is_gone(pid)
        session.kill()
        session.wait()
        deadline = time.monotonic() + 10
        while not process_is_gone(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert process_is_gone(pid), f"QEMU {pid} outlived its killed session"
    finally:
        try:
            os.killpg(session.pid, signal.SIGKILL)     # GDB and its `sleep`
        except ProcessLookupError:
            pass


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


def test_a_port_another_program_took_is_not_taken_for_ours(tmp_path, monkeypatch):
    """Two students on one lab server: between our check that a port is
    free and our QEMU's bind, someone else's program takes it. Our QEMU
    then cannot listen and exits; GDB must not be pointed at the other
    program's port (which does listen)."""
    from debug import gdb_session
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        monkeypatch.setenv("GDB_PORT", str(port))
        monkeypatch.setattr(gdb_session, "port_is_free", lambda _port: True)   # the race
        with pytest.raises(SystemExit) as refused:
            gdb_session.start_qemu_on_free_port(BUILD / "disk.img", tmp_path / "serial.log",
                                                batch=True)
    assert f"no free port for QEMU's GDB server (GDB_PORT={port} is in use?)" \
        in str(refused.value)
