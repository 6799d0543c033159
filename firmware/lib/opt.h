/* Guest options from the PVH command line: space-separated "key=value" or bare "key". */
#ifndef FW_OPT_H
#define FW_OPT_H
#include <stdint.h>

/* Splits cmdline into options; returns 0 or why it could not (too long, too many). */
const char *opt_init(const char *cmdline);

/* Value of the last "key=value" (or "" for a bare "key"); 0 if the key is absent. */
const char *opt_get(const char *key);

/* Parses decimal or 0x-hex into *out; returns 0, or -1 if s is not such a number. */
int opt_parse_u64(const char *s, uint64_t *out);

/* Value of numeric option key, def if absent; a malformed or too-large value (> max)
 * ends the guest with a FAIL verdict naming the option. */
uint64_t opt_num(const char *key, uint64_t def, uint64_t max);

/* Index in names[] of option key's value, def if absent; an unknown value ends the guest
 * with a FAIL verdict listing the accepted values. */
int opt_choice(const char *key, const char *const *names, int count, int def);

#endif
