/* The screen: a text grid with a small ANSI parser, drawn on VGA text or a framebuffer. */
#include <stdint.h>
#include <string.h>
#include "font.h"
#include "screen.h"
#include "x86.h"

#define MAX_COLS 256
#define MAX_ROWS 96
#define MAX_FB_WIDTH 4096
#define CSI_MAX_PARAMS 4
#define VGA_ATTR 0x07 /* light grey on black */
#define CELL_H (FONT_HEIGHT * 2) /* glyphs are drawn with doubled rows: 8x16 cells */

enum mode { MODE_NONE, MODE_VGA, MODE_FB };
enum parse { P_TEXT, P_ESC, P_ESC_ARG, P_CSI, P_OSC, P_OSC_ESC };

static enum mode mode;
static uint8_t grid[MAX_ROWS][MAX_COLS];
static uint8_t dirty[MAX_ROWS];
static int cols, rows, cur_x, cur_y, shown_x = -1, shown_y = -1;

static enum parse pstate;
static int csi_params[CSI_MAX_PARAMS], csi_count;

static volatile uint8_t *fb;
static uint32_t fb_pitch, fb_bytes_pp, fb_fg, fb_bg;
static uint8_t scanline[MAX_FB_WIDTH * 4];
static uint8_t expand[256][FONT_WIDTH * 4];

/* Scales an 8-bit intensity into a channel of size bits at position pos. */
static uint32_t channel(uint32_t v8, uint8_t pos, uint8_t size)
{
    if (size == 0 || size > 8)
        return 0;
    return (v8 >> (8 - size)) << pos;
}

/* Fills expand[bits] with the 8 pixels a glyph row byte stands for, in the
 * framebuffer's pixel format, so drawing is one small copy per cell and scanline. */
static void build_expand(void)
{
    for (int bits = 0; bits < 256; bits++) {
        uint8_t *p = expand[bits];
        for (int bx = 0; bx < FONT_WIDTH; bx++) {
            uint32_t v = (bits << bx) & 0x80 ? fb_fg : fb_bg;
            for (uint32_t b = 0; b < fb_bytes_pp; b++)
                *p++ = (uint8_t)(v >> (8 * b));
        }
    }
}

int screen_init(const struct boot_info *bi)
{
    if (bi->fb_addr && !bi->fb_is_text && bi->fb_addr + (uint64_t)bi->fb_pitch * bi->fb_height <= (1ULL << 32) &&
        (bi->fb_bpp == 16 || bi->fb_bpp == 24 || bi->fb_bpp == 32) && bi->fb_width <= MAX_FB_WIDTH &&
        bi->fb_width >= 8 * 20 && bi->fb_height >= CELL_H * 5) {
        mode = MODE_FB;
        fb = (volatile uint8_t *)(uintptr_t)bi->fb_addr;
        fb_pitch = bi->fb_pitch;
        fb_bytes_pp = bi->fb_bpp / 8;
        cols = bi->fb_width / FONT_WIDTH;
        rows = bi->fb_height / CELL_H;
        fb_fg = channel(0xC0, bi->fb_red_pos, bi->fb_red_size) |
                channel(0xC0, bi->fb_green_pos, bi->fb_green_size) |
                channel(0xC0, bi->fb_blue_pos, bi->fb_blue_size);
        fb_bg = 0;
        build_expand();
    } else if (bi->fb_is_text || (!bi->fb_addr && !bi->uefi)) {
        /* VGA text: what the loader reported, or (BIOS without a framebuffer report, e.g.
         * QEMU's multiboot1) the power-on 80x25 mode at 0xB8000. */
        mode = MODE_VGA;
        cols = bi->fb_is_text && bi->fb_width ? (int)bi->fb_width : 80;
        rows = bi->fb_is_text && bi->fb_height ? (int)bi->fb_height : 25;
    } else {
        mode = MODE_NONE;
        return 0;
    }
    if (cols > MAX_COLS)
        cols = MAX_COLS;
    if (rows > MAX_ROWS)
        rows = MAX_ROWS;
    memset(grid, ' ', sizeof(grid));
    memset(dirty, 1, sizeof(dirty));
    cur_x = cur_y = 0;
    return 1;
}

static void scroll(void)
{
    memmove(grid[0], grid[1], (size_t)(rows - 1) * MAX_COLS);
    memset(grid[rows - 1], ' ', MAX_COLS);
    memset(dirty, 1, (size_t)rows);
    cur_y = rows - 1;
}

static void newline(void)
{
    cur_x = 0;
    if (++cur_y >= rows)
        scroll();
}

static void put(uint8_t c)
{
    if (cur_x >= cols)
        newline(); /* deferred wrap: a full line does not scroll until more text comes */
    grid[cur_y][cur_x++] = c;
    dirty[cur_y] = 1;
}

static void erase(int y, int from, int to)
{
    if (y < 0 || y >= rows || from >= to)
        return;
    memset(&grid[y][from], ' ', (size_t)(to - from));
    dirty[y] = 1;
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Executes the CSI sequences line editing needs; others (colours included) are dropped. */
static void csi(uint8_t final)
{
    int p0 = csi_count > 0 ? csi_params[0] : 0, n = p0 ? p0 : 1;
    switch (final) {
    case 'A': cur_y = clampi(cur_y - n, 0, rows - 1); break;
    case 'B': cur_y = clampi(cur_y + n, 0, rows - 1); break;
    case 'C': cur_x = clampi(cur_x + n, 0, cols - 1); break;
    case 'D': cur_x = clampi(cur_x - n, 0, cols - 1); break;
    case 'G': cur_x = clampi(n - 1, 0, cols - 1); break;
    case 'H':
    case 'f':
        cur_y = clampi(n - 1, 0, rows - 1);
        cur_x = clampi((csi_count > 1 && csi_params[1] ? csi_params[1] : 1) - 1, 0, cols - 1);
        break;
    case 'K':
        if (p0 == 0) erase(cur_y, cur_x, cols);
        else if (p0 == 1) erase(cur_y, 0, cur_x + 1 < cols ? cur_x + 1 : cols);
        else erase(cur_y, 0, cols);
        break;
    case 'J':
        if (p0 == 2 || p0 == 3) {
            for (int y = 0; y < rows; y++)
                erase(y, 0, cols);
            cur_x = cur_y = 0;
        } else if (p0 == 0) {
            erase(cur_y, cur_x, cols);
            for (int y = cur_y + 1; y < rows; y++)
                erase(y, 0, cols);
        }
        break;
    default: break;
    }
}

static void feed(uint8_t c)
{
    switch (pstate) {
    case P_ESC:
        if (c == '[') {
            pstate = P_CSI;
            csi_count = 0;
            memset(csi_params, 0, sizeof(csi_params));
        } else if (c == ']') {
            pstate = P_OSC;
        } else if (c == '(' || c == ')' || c == '#') {
            pstate = P_ESC_ARG; /* charset designation: one more byte */
        } else {
            pstate = P_TEXT;
        }
        return;
    case P_ESC_ARG:
        pstate = P_TEXT;
        return;
    case P_CSI:
        if (c >= '0' && c <= '9') {
            if (csi_count == 0)
                csi_count = 1;
            if (csi_count <= CSI_MAX_PARAMS && csi_params[csi_count - 1] < 10000)
                csi_params[csi_count - 1] = csi_params[csi_count - 1] * 10 + (c - '0');
        } else if (c == ';') {
            csi_count = (csi_count == 0 ? 1 : csi_count) + 1;
        } else if (c >= 0x40 && c <= 0x7E) {
            if (csi_count > CSI_MAX_PARAMS)
                csi_count = CSI_MAX_PARAMS;
            csi(c);
            pstate = P_TEXT;
        } else if (c < 0x20 || c > 0x7E) {
            pstate = P_TEXT; /* malformed: give up on the sequence */
        }
        return;
    case P_OSC:
        if (c == 0x07)
            pstate = P_TEXT;
        else if (c == 0x1B)
            pstate = P_OSC_ESC;
        return;
    case P_OSC_ESC:
        pstate = P_TEXT;
        return;
    case P_TEXT:
        break;
    }
    if (c == 0x1B)
        pstate = P_ESC;
    else if (c == '\n')
        newline();
    else if (c == '\r')
        cur_x = 0;
    else if (c == '\b')
        cur_x = cur_x > 0 ? (cur_x > cols ? cols : cur_x) - 1 : 0;
    else if (c == '\t')
        do put(' '); while (cur_x % 8 && cur_x < cols);
    else if (c >= 0x20 && c < 0x7F)
        put(c);
    else if (c >= 0xC0)
        put('?'); /* one mark per UTF-8 sequence: the lead byte; continuations vanish */
}

void screen_write(const char *s, size_t n)
{
    if (mode == MODE_NONE)
        return;
    for (size_t i = 0; i < n; i++)
        feed((uint8_t)s[i]);
}

static void vga_row(int y)
{
    volatile uint16_t *cell = (volatile uint16_t *)(uintptr_t)0xB8000 + (size_t)y * cols;
    for (int x = 0; x < cols; x++)
        cell[x] = (uint16_t)(VGA_ATTR << 8 | grid[y][x]);
}

static void vga_cursor(void)
{
    int x = cur_x < cols ? cur_x : cols - 1;
    uint16_t pos = (uint16_t)(cur_y * cols + x);
    if (x == shown_x && cur_y == shown_y)
        return;
    x86_outb(0x3D4, 0x0F);
    x86_outb(0x3D5, pos & 0xFF);
    x86_outb(0x3D4, 0x0E);
    x86_outb(0x3D5, pos >> 8);
    shown_x = x;
    shown_y = cur_y;
}

/* Draws one text row, scanline by scanline through a RAM buffer (framebuffer memory is
 * slow to touch piecemeal on real hardware). Row ends past cols*8 pixels stay as is. */
static void fb_row(int y)
{
    const uint8_t *glyph[MAX_COLS];
    size_t cell_bytes = FONT_WIDTH * fb_bytes_pp, line_bytes = (size_t)cols * cell_bytes;
    for (int x = 0; x < cols; x++)
        glyph[x] = font_glyph(grid[y][x]);
    for (int sy = 0; sy < CELL_H; sy++) {
        uint8_t *p = scanline;
        for (int x = 0; x < cols; x++, p += cell_bytes) {
            uint8_t bits = glyph[x][sy / 2];
            if (x == cur_x && y == cur_y && sy >= CELL_H - 2)
                bits = 0xFF; /* the cursor: an underline */
            memcpy(p, expand[bits], cell_bytes);
        }
        memcpy((uint8_t *)fb + (size_t)(y * CELL_H + sy) * fb_pitch, scanline, line_bytes);
    }
}

void screen_flush(void)
{
    if (mode == MODE_NONE)
        return;
    if (mode == MODE_FB && (cur_x != shown_x || cur_y != shown_y)) {
        /* the framebuffer cursor is drawn into its cell's row */
        if (shown_y >= 0 && shown_y < rows)
            dirty[shown_y] = 1;
        dirty[cur_y] = 1;
        shown_x = cur_x;
        shown_y = cur_y;
    }
    for (int y = 0; y < rows; y++) {
        if (!dirty[y])
            continue;
        dirty[y] = 0;
        if (mode == MODE_VGA)
            vga_row(y);
        else
            fb_row(y);
    }
    if (mode == MODE_VGA)
        vga_cursor();
}
