/*
 * cpu_info.c - the shell's `cpu` command: CPUID, decoded.
 *
 * Leaves and bits from the Intel SDM Vol. 2A, "CPUID", and AMD's APM
 * Vol. 3, appendix E.
 */
#include "shell/cpu_info.h"

#include <stdint.h>

#include "console.h"
#include "cpu/control_registers.h"

#define CPUID_VENDOR 0x0             /* EBX, EDX, ECX: 12 characters */
#define CPUID_FEATURES 0x1           /* EAX: version; ECX/EDX: feature bits */
#define CPUID_BRAND_FIRST 0x80000002 /* 0x80000002-4: 48-character brand string */
#define CPUID_BRAND_LEAVES 3
#define CPUID_ADDRESS_SIZES 0x80000008 /* EAX 7-0 physical, 15-8 linear bits */

struct cpuid_result {
    uint32_t eax, ebx, ecx, edx;
};

static struct cpuid_result cpuid_leaf(uint32_t leaf)
{
    struct cpuid_result r;
    cpuid(leaf, &r.eax, &r.ebx, &r.ecx, &r.edx);
    return r;
}

struct feature {
    const char *name;
    uint32_t leaf;
    char reg; /* 'c' or 'd' */
    unsigned int bit;
    const char *why;
};

static const struct feature features[] = {
    {"PAE", CPUID_FEATURES, 'd', 6, "64-bit page table entries, required for long mode"},
    {"APIC", CPUID_FEATURES, 'd', 9, "local APIC present"},
    {"MSR", CPUID_FEATURES, 'd', 5, "RDMSR/WRMSR (EFER is an MSR)"},
    {"TSC", CPUID_FEATURES, 'd', 4, "time stamp counter (the loader's timestamps)"},
    {"x2APIC", CPUID_FEATURES, 'c', 21, "APIC through MSRs"},
    {"long mode", CPUID_EXTENDED_FEATURES, 'd', 29, "64-bit mode (EFER.LME)"},
    {"NX", CPUID_EXTENDED_FEATURES, 'd', 20, "no-execute pages (EFER.NXE)"},
    {"1 GiB pages", CPUID_EXTENDED_FEATURES, 'd', 26, "PS in PDPT entries"},
    {"SYSCALL", CPUID_EXTENDED_FEATURES, 'd', 11, "SYSCALL/SYSRET"},
};

void cpu_info_print(void)
{
    struct cpuid_result r = cpuid_leaf(CPUID_VENDOR);
    char vendor[13];
    uint32_t parts[3] = {r.ebx, r.edx, r.ecx};
    for (int i = 0; i < 12; i++)
        vendor[i] = (char)(parts[i / 4] >> (8 * (i % 4)));
    vendor[12] = '\0';
    uint32_t max_basic = r.eax;
    uint32_t max_extended = cpuid_leaf(CPUID_EXTENDED_MAX).eax;
    kprintf("vendor: %s\n", vendor);

    if (max_extended >= CPUID_BRAND_FIRST + CPUID_BRAND_LEAVES - 1) {
        char brand[CPUID_BRAND_LEAVES * 16 + 1];
        for (int leaf = 0; leaf < CPUID_BRAND_LEAVES; leaf++) {
            struct cpuid_result b = cpuid_leaf(CPUID_BRAND_FIRST + leaf);
            uint32_t words[4] = {b.eax, b.ebx, b.ecx, b.edx};
            for (int i = 0; i < 16; i++)
                brand[leaf * 16 + i] = (char)(words[i / 4] >> (8 * (i % 4)));
        }
        brand[sizeof brand - 1] = '\0';
        const char *start = brand;
        while (*start == ' ')
            start++;
        kprintf("brand: %s\n", start);
    }

    if (max_basic >= CPUID_FEATURES) {
        uint32_t version = cpuid_leaf(CPUID_FEATURES).eax;
        /* EAX: stepping 3-0, model 7-4, family 11-8, extended model 19-16,
         * extended family 27-20; the extended fields count for family 6/15. */
        unsigned int stepping = version & 0xF;
        unsigned int model = (version >> 4) & 0xF;
        unsigned int family = (version >> 8) & 0xF;
        if (family == 0x6 || family == 0xF)
            model |= ((version >> 16) & 0xF) << 4;
        if (family == 0xF)
            family += (version >> 20) & 0xFF;
        kprintf("family %u, model %u, stepping %u\n", family, model, stepping);
    }

    for (unsigned int i = 0; i < sizeof features / sizeof features[0]; i++) {
        const struct feature *f = &features[i];
        uint32_t max = f->leaf >= CPUID_EXTENDED_MAX ? max_extended : max_basic;
        int present = 0;
        if (f->leaf <= max) {
            struct cpuid_result fr = cpuid_leaf(f->leaf);
            uint32_t value = f->reg == 'c' ? fr.ecx : fr.edx;
            present = (value >> f->bit) & 1;
        }
        kprintf("  %-12s %-3s  %s\n", f->name, present ? "yes" : "no", f->why);
    }
    if (max_extended >= CPUID_ADDRESS_SIZES) {
        uint32_t sizes = cpuid_leaf(CPUID_ADDRESS_SIZES).eax;
        kprintf("address bits: %u physical, %u virtual\n", sizes & 0xFF, (sizes >> 8) & 0xFF);
    }
}
