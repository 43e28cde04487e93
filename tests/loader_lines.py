"""Patterns for the lines stage 2 prints, shared by every boot test so a
change of wording is made in one place."""

PAGE_TABLES_LINE = (
    r"stage2: page tables built: 0-(?P<mapped_gib>\d+) GiB identity-mapped with 2 MiB pages"
    r"(?P<gib_above_4g> \(1 GiB pages above 4 GiB\))?, "
    r"4 KiB pages for the first 2 MiB and the kernel's segments \(with their ELF permissions\), "
    r"NX (?P<nx_state>on|off \(the CPU has no NX\))")
