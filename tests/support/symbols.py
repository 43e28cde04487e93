"""The symbols of a linked file with a symbol table (kernel.elf), as nm
lists them."""
import subprocess
from dataclasses import dataclass


@dataclass(frozen=True)
class Symbol:
    address: int
    size: int | None        # None for a label without a size (NASM's, for one)
    type: str               # nm's letter: T/t code, D/d data, B/b BSS, ...
    name: str


def nm_symbols(elf):
    """Every symbol `elf` defines."""
    out = subprocess.run(["nm", "--defined-only", "-S", str(elf)],
                         capture_output=True, text=True, check=True).stdout
    symbols = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4:
            address, size, kind, name = parts
            symbols.append(Symbol(int(address, 16), int(size, 16), kind, name))
        elif len(parts) == 3:
            address, kind, name = parts
            symbols.append(Symbol(int(address, 16), None, kind, name))
    return symbols


def symbol(elf, name):
    """The Symbol called `name` in `elf`."""
    found = [s for s in nm_symbols(elf) if s.name == name]
    assert found, f"{name} is not a symbol of {elf}"
    return found[0]


def symbol_address(elf, name):
    return symbol(elf, name).address
