"""The boot benchmark's pieces work (tests/bench/): its boot sectors end
QEMU with status 33, the I/O floor reads exactly what it is told to, the
dump kernel's boot information parses, a quick run writes its JSON, and
its Linux part boots to /init's line both ways and counts the disk reads.

Nothing here judges timing: how fast the loader is belongs in the
benchmark's report (`./build.sh bench`), not in a test that passes or fails.
"""
import json
import math
import os
import subprocess
import sys

import pytest

from bench import bench
from support.paths import BUILD, ROOT

DISK_BYTES = 1 << 20          # room for every sector count below after LBA 0


@pytest.fixture(scope="module")
def work(tmp_path_factory, mkimage):
    return tmp_path_factory.mktemp("bench-work")


@pytest.fixture(scope="module")
def layout(work):
    return bench.read_layout(work)


@pytest.fixture(scope="module")
def disk(work):
    """1 MiB of bytes for the boot sectors to read after themselves."""
    path = work / "disk.img"
    path.write_bytes(os.urandom(DISK_BYTES))
    return path


def sector_image(work, sector, disk, name):
    return bench.make_sector_image(sector, work / name, like=disk)


def test_firmware_floor_exits_with_33(work, disk):
    sector = bench.assemble_sector("firmware_floor.asm", work)
    result = bench.boot(sector_image(work, sector, disk, "firmware.img"), work)
    assert result.status == bench.EXIT_STATUS_SUCCESS, (result.status, result.stderr)


@pytest.mark.parametrize("sectors", [0, 1, 127, 128, 381, 1000])
def test_io_floor_reads_what_it_is_told(work, disk, sectors):
    """127 sectors a call, the last call fewer: ceil(N / 127) calls."""
    sector = bench.patch_io_floor(bench.assemble_sector("io_floor.asm", work), sectors)
    result = bench.boot(sector_image(work, sector, disk, f"io-{sectors}.img"), work)
    assert result.status == bench.EXIT_STATUS_SUCCESS, (result.status, result.serial)
    calls, read = bench.io_floor_report(result.serial)
    assert read == sectors
    assert calls == math.ceil(sectors / bench.SECTORS_PER_CALL)


def test_io_floor_count_can_be_given_to_nasm(work):
    """-DSECTORS=N puts N where the benchmark would patch it."""
    out = work / "io-nasm.bin"
    subprocess.run(["nasm", "-f", "bin", "-DSECTORS=4242", f"-I{ROOT / 'tests'}/", "-o", str(out),
                    str(ROOT / "tests" / "bench" / "io_floor.asm")], check=True)
    data = out.read_bytes()
    assert data == bench.patch_io_floor(data, 4242)
    assert data[510:] == b"\x55\xaa"


def test_dump_kernel_boot_info_parses(work, layout):
    kernel = bench.build_exit_kernel(work, dump=True)
    image = bench.make_loader_image(kernel, work / "dump.img")
    result = bench.boot(image, work)
    assert result.status == bench.EXIT_STATUS_SUCCESS, result.serial.decode("latin-1")
    block = bench.extract_boot_info(result.serial)
    assert block is not None, result.serial.decode("latin-1")
    info = bench.parse_boot_info(block, layout)
    assert block[:4] == b"BOOT" and info["magic"] == bench.BOOT_INFO_MAGIC
    assert info["version"] == 1
    assert info["size"] == len(block) == layout.boot_info_size
    assert info["kernel_entry"] == bench.KERNEL_ADDRESS
    image_info = bench.image_layout(image, layout)
    assert info["disk_sectors_read"] == image_info.kernel_sectors
    assert info["timestamps"][0] != 0


def test_quick_run_writes_json_with_every_configuration(tmp_path):
    """The whole benchmark once, without warm-up, build or test timing."""
    results_path = tmp_path / "results.json"
    env = dict(os.environ, BUILD_DIR=str(BUILD))
    run = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "bench" / "bench.py"), "--runs", "1",
         "--warmup", "0", "--no-tests", "--no-build-time", "--no-linux",
         "--json", str(results_path), "--work-dir", str(tmp_path / "work")],
        env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    results = json.loads(results_path.read_text())
    assert set(results["configurations"]) == set(bench.CONFIGURATIONS)
    for name, configuration in results["configurations"].items():
        assert len(configuration["samples"]) == 1, name
        assert configuration["samples"][0] > 0, name
    for name in ("small", "large"):
        loader = results["loader"][name]
        assert loader["magic"] == bench.BOOT_INFO_MAGIC and loader["version"] == 1
        assert loader["disk_sectors_read"] == loader["kernel_sectors"]
    for key in ("commit", "date", "qemu_version", "host_cpu", "derived"):
        assert key in results, key
    if results["commit_short"]:
        assert (tmp_path / f"results-{results['commit_short']}.json").exists()
    for name in bench.CONFIGURATIONS:        # the table names every configuration
        assert f"\n{name} " in run.stdout, run.stdout


def test_linux_part_reaches_init_and_counts_the_reads(work):
    """One round of the Linux part: QEMU's loader reads no disk, GRUB and
    our loader read at least the kernel and the initramfs, and the report
    names all three."""
    try:
        workloads, facts = bench.prepare_linux(work)
    except (bench.linux.LinuxSetupError, bench.grub_disk.GrubMissing) as error:
        pytest.fail(str(error))
    boots = bench.measure_linux(workloads, facts, runs=1, work=work, warmup=0)
    results = bench.linux_results(workloads, facts, boots)
    floor = results["configurations"]["linux-qemu"]
    grub = results["configurations"]["linux-grub"]
    assert floor["disk_read_bytes"] == 0 and floor["disk_read_operations"] == 0
    assert grub["disk_read_bytes"] >= facts["kernel_bytes"] + facts["initrd_bytes"]
    assert grub["disk_read_operations"] > 0
    ours = results["configurations"]["linux-ours"]
    assert ours["disk_read_bytes"] >= facts["kernel_bytes"] + facts["initrd_bytes"]
    assert 0 < ours["samples"][0]
    assert 0 < floor["samples"][0] and 0 < grub["samples"][0]
    report = bench.format_linux_report(results)
    for name in bench.LINUX_CONFIGURATIONS:
        assert f"\n{name} " in report, report
