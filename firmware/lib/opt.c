/* Command-line option parsing; bad values end the guest with a verdict, never a crash. */
#include "opt.h"
#include "guest.h"
#include "str.h"

#define OPT_BUF 2048
#define OPT_MAX 64

static char buf[OPT_BUF];
static const char *keys[OPT_MAX], *vals[OPT_MAX];
static int nr_opts;

const char *opt_init(const char *cmdline)
{
	size_t len = strlen(cmdline);
	char *p = buf;

	nr_opts = 0;
	if (len >= OPT_BUF)
		return "command line longer than 2047 bytes";
	memcpy(buf, cmdline, len + 1);
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			*p++ = 0;
		if (!*p)
			return 0;
		if (nr_opts == OPT_MAX)
			return "more than 64 options on the command line";
		keys[nr_opts] = p;
		vals[nr_opts] = "";
		int has_val = 0;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n') {
			if (*p == '=' && !has_val) {
				*p = 0;
				vals[nr_opts] = p + 1;
				has_val = 1;
			}
			p++;
		}
		nr_opts++;
	}
}

const char *opt_get(const char *key)
{
	for (int i = nr_opts - 1; i >= 0; i--)
		if (!strcmp(keys[i], key))
			return vals[i];
	return 0;
}

int opt_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	unsigned base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16, s += 2;
	if (!*s)
		return -1;
	for (; *s; s++) {
		unsigned d;
		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return -1;
		if (v > fmt_udivmod64(UINT64_MAX - d, base, 0))
			return -1; /* overflow */
		v = v * base + d;
	}
	*out = v;
	return 0;
}

uint64_t opt_num(const char *key, uint64_t def, uint64_t max)
{
	const char *s = opt_get(key);
	uint64_t v;

	if (!s)
		return def;
	if (opt_parse_u64(s, &v))
		verdict_fail("bad option %s=%s: expected a number (decimal or 0x hex)", key, s);
	if (v > max)
		verdict_fail("bad option %s=%s: at most %llu", key, s, (unsigned long long)max);
	return v;
}

int opt_choice(const char *key, const char *const *names, int count, int def)
{
	const char *s = opt_get(key);
	char list[128];
	size_t len = 0;

	if (!s)
		return def;
	for (int i = 0; i < count; i++)
		if (!strcmp(s, names[i]))
			return i;
	list[0] = 0;
	for (int i = 0; i < count && len < sizeof(list); i++)
		len += fmt_snprintf(list + len, sizeof(list) - len, "%s%s", i ? "|" : "", names[i]);
	verdict_fail("bad option %s=%s: expected %s", key, s, list);
}
