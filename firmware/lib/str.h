/* The few C string and memory functions the guests need (GCC may also emit calls to them). */
#ifndef FW_STR_H
#define FW_STR_H
#include <stddef.h>

/* Standard C semantics. */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

#endif
