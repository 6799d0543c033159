/* The screen half of the console: VGA text or a linear framebuffer (internal). */
#ifndef ZAZEN_SCREEN_H
#define ZAZEN_SCREEN_H
#include <stddef.h>
#include "boot.h"

/* Picks VGA text or the loader's RGB framebuffer from bi; returns 0 if there is none. */
int screen_init(const struct boot_info *bi);

/* Feeds console bytes: control characters and ANSI escapes are interpreted or dropped. */
void screen_write(const char *s, size_t n);

/* Draws the rows changed since the last flush. */
void screen_flush(void);

#endif
