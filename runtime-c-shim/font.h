/* The framebuffer console's bitmap font (internal to the shim). */
#ifndef ZAZEN_FONT_H
#define ZAZEN_FONT_H
#include <stdint.h>

#define FONT_WIDTH 8
#define FONT_HEIGHT 8

/* Returns FONT_HEIGHT row bitmaps (bit 7 = leftmost pixel) for c; '?' outside ASCII. */
const uint8_t *font_glyph(uint8_t c);

#endif
