/*
 * vga.c - the 80x25 colour text mode the BIOS leaves the screen in (mode 3).
 *
 * In this mode the screen is an array of 80 x 25 16-bit cells in memory at
 * physical address 0xB8000 (identity-mapped, so also its virtual address).
 * Each cell holds the character's code page 437 byte in the low byte and
 * its attribute (colours) in the high byte. The blinking cursor is not part
 * of that memory: the CRT controller draws it at a position we set through
 * I/O ports.
 */
#include "drivers/vga.h"

#include <stdint.h>

#include "io.h"

#define VGA_TEXT_BUFFER 0xB8000
#define VGA_COLUMNS 80
#define VGA_ROWS 25
#define VGA_CELLS (VGA_COLUMNS * VGA_ROWS)

/*
 * Attribute byte: bits 0-3 foreground colour, bits 4-6 background colour,
 * bit 7 blink (or bright background). 0x07 = light grey on black, what the
 * BIOS uses.
 */
#define VGA_ATTRIBUTE_DEFAULT 0x07

#define VGA_TAB_WIDTH 8

/*
 * CRT controller (CRTC): write a register number to the index port, then
 * read or write that register through the data port. Registers 0x0E and
 * 0x0F hold the high and low byte of the cursor's cell index
 * (row * 80 + column). These are the colour-mode ports; a monochrome
 * adapter would use 0x3B4/0x3B5.
 */
#define CRTC_INDEX_PORT 0x3D4
#define CRTC_DATA_PORT 0x3D5
#define CRTC_CURSOR_LOCATION_HIGH 0x0E
#define CRTC_CURSOR_LOCATION_LOW 0x0F

/* volatile: these writes have an effect (the screen) the compiler cannot
 * see, so it must not drop or merge them. */
static volatile uint16_t *const vga_buffer = (volatile uint16_t *)VGA_TEXT_BUFFER;

/*
 * Where the next character goes. cursor_column may equal VGA_COLUMNS: the
 * line is full and the wrap to the next line waits for the next printable
 * character. Wrapping at once would turn a line of exactly 80 characters
 * followed by "\n" into a line and an empty line.
 */
static unsigned int cursor_row;
static unsigned int cursor_column;

static uint16_t vga_cell(char c)
{
    return (uint16_t)((uint8_t)c | (VGA_ATTRIBUTE_DEFAULT << 8));
}

static unsigned int read_hardware_cursor(void)
{
    outb(CRTC_INDEX_PORT, CRTC_CURSOR_LOCATION_HIGH);
    unsigned int high = inb(CRTC_DATA_PORT);
    outb(CRTC_INDEX_PORT, CRTC_CURSOR_LOCATION_LOW);
    unsigned int low = inb(CRTC_DATA_PORT);
    return (high << 8) | low;
}

static void update_hardware_cursor(void)
{
    /* While a wrap is pending, show the cursor on the last column. */
    unsigned int column = cursor_column < VGA_COLUMNS ? cursor_column : VGA_COLUMNS - 1;
    unsigned int position = cursor_row * VGA_COLUMNS + column;
    outb(CRTC_INDEX_PORT, CRTC_CURSOR_LOCATION_HIGH);
    outb(CRTC_DATA_PORT, (uint8_t)(position >> 8));
    outb(CRTC_INDEX_PORT, CRTC_CURSOR_LOCATION_LOW);
    outb(CRTC_DATA_PORT, (uint8_t)(position & 0xFF));
}

static void clear_row(unsigned int row)
{
    for (unsigned int column = 0; column < VGA_COLUMNS; column++)
        vga_buffer[row * VGA_COLUMNS + column] = vga_cell(' ');
}

/* Move every line up by one; the top line is lost, the bottom one blank. */
static void scroll_up(void)
{
    for (unsigned int i = 0; i < VGA_CELLS - VGA_COLUMNS; i++)
        vga_buffer[i] = vga_buffer[i + VGA_COLUMNS];
    clear_row(VGA_ROWS - 1);
}

static void new_line(void)
{
    cursor_column = 0;
    if (cursor_row + 1 < VGA_ROWS)
        cursor_row++;
    else
        scroll_up();
}

void vga_init(void)
{
    /*
     * Keep the BIOS and loader messages on screen: carry on from where the
     * cursor was left, on a fresh line. If the position makes no sense
     * (no VGA card: the ports read as 0xFF), clear the screen instead.
     */
    unsigned int position = read_hardware_cursor();
    if (position < VGA_CELLS) {
        cursor_row = position / VGA_COLUMNS;
        cursor_column = position % VGA_COLUMNS;
        if (cursor_column != 0)
            new_line();
    } else {
        for (unsigned int row = 0; row < VGA_ROWS; row++)
            clear_row(row);
        cursor_row = 0;
        cursor_column = 0;
    }
    update_hardware_cursor();
}

static void put_char(char c)
{
    switch (c) {
    case '\n':
        new_line();
        break;
    case '\r':
        cursor_column = 0;
        break;
    case '\b':
        /* Back one column (not past the line start), as a terminal does:
         * the echo of Backspace is "\b \b". */
        if (cursor_column > 0)
            cursor_column--;
        break;
    case '\t':
        do
            put_char(' ');
        while (cursor_column % VGA_TAB_WIDTH != 0);
        break;
    default:
        if (cursor_column == VGA_COLUMNS)
            new_line(); /* the pending wrap of a long line */
        vga_buffer[cursor_row * VGA_COLUMNS + cursor_column] = vga_cell(c);
        cursor_column++;
        break;
    }
}

void vga_write(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        put_char(s[i]);
    /* Once per call, not per character: each update is four port writes. */
    update_hardware_cursor();
}
