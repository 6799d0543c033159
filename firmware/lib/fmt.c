/* The formatter behind kprintf and fmt_snprintf (a subset of C99 printf, no floating point). */
#include "fmt.h"

uint64_t fmt_udivmod64(uint64_t n, uint64_t d, uint64_t *rem)
{
	uint64_t q = 0, r = 0;
#if defined(__x86_64__) && !defined(FMT_SOFT_DIV) /* the host unit test forces the loop */
	q = n / d;
	r = n % d;
#else
	/* Restoring shift-subtract division: 64 steps, no __udivdi3 needed. */
	for (int i = 63; i >= 0; i--) {
		r = (r << 1) | ((n >> i) & 1);
		if (r >= d) {
			r -= d;
			q |= (uint64_t)1 << i;
		}
	}
#endif
	if (rem)
		*rem = r;
	return q;
}

struct spec {
	int left, zero, alt, plus, space;
	unsigned width;
	int precision; /* -1 when absent */
};

static size_t pad(fmt_sink sink, void *ctx, char c, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		sink(ctx, c);
	return n;
}

/* Emits an unsigned number with an optional sign or 0x prefix, honouring width and flags. */
static size_t put_number(fmt_sink sink, void *ctx, const struct spec *s, uint64_t v,
			 unsigned base, int upper, const char *prefix)
{
	char digits[24];
	const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	unsigned n = 0, plen = 0, i;
	size_t out = 0;

	/* As in C, an explicit zero precision prints no digits for the value zero. */
	while (v || (n == 0 && s->precision != 0)) {
		uint64_t r;
		v = fmt_udivmod64(v, base, &r);
		digits[n++] = set[r];
	}
	if (s->precision >= 0)
		while (n < (unsigned)s->precision && n < sizeof(digits))
			digits[n++] = '0';
	while (prefix[plen])
		plen++;
	unsigned len = n + plen;
	unsigned fill = s->width > len ? s->width - len : 0;

	if (!s->left && !s->zero)
		out += pad(sink, ctx, ' ', fill);
	for (i = 0; i < plen; i++, out++)
		sink(ctx, prefix[i]);
	if (!s->left && s->zero)
		out += pad(sink, ctx, '0', fill);
	while (n)
		sink(ctx, digits[--n]), out++;
	if (s->left)
		out += pad(sink, ctx, ' ', fill);
	return out;
}

static size_t put_string(fmt_sink sink, void *ctx, const struct spec *s, const char *str)
{
	unsigned n = 0, fill;
	size_t out = 0;

	if (!str)
		str = "(null)";
	while (str[n] && (s->precision < 0 || n < (unsigned)s->precision))
		n++;
	fill = s->width > n ? s->width - n : 0;
	if (!s->left)
		out += pad(sink, ctx, ' ', fill);
	for (unsigned i = 0; i < n; i++, out++)
		sink(ctx, str[i]);
	if (s->left)
		out += pad(sink, ctx, ' ', fill);
	return out;
}

size_t fmt_vformat(fmt_sink sink, void *ctx, const char *fmt, va_list ap)
{
	size_t out = 0;

	for (; *fmt; fmt++) {
		struct spec s = { .precision = -1 };
		int lng = 0, size_t_arg = 0;

		if (*fmt != '%') {
			sink(ctx, *fmt);
			out++;
			continue;
		}
		for (;; fmt++) {
			char f = fmt[1];
			if (f == '-')
				s.left = 1;
			else if (f == '0')
				s.zero = 1;
			else if (f == '#')
				s.alt = 1;
			else if (f == '+')
				s.plus = 1;
			else if (f == ' ')
				s.space = 1;
			else
				break;
		}
		fmt++;
		if (*fmt == '*') {
			int w = va_arg(ap, int);
			if (w < 0)
				s.left = 1, w = -w;
			s.width = (unsigned)w;
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			s.width = s.width * 10 + (unsigned)(*fmt++ - '0');
		if (*fmt == '.') {
			s.precision = 0;
			fmt++;
			if (*fmt == '*') {
				s.precision = va_arg(ap, int);
				fmt++;
			}
			while (*fmt >= '0' && *fmt <= '9')
				s.precision = s.precision * 10 + (*fmt++ - '0');
		}
		while (*fmt == 'l')
			lng++, fmt++;
		if (*fmt == 'z')
			size_t_arg = 1, fmt++;
		if (s.precision >= 0 || s.left)
			s.zero = 0;

		uint64_t u;
		int64_t d;
		switch (*fmt) {
		case 'd':
		case 'i':
			if (lng >= 2)
				d = va_arg(ap, long long);
			else if (lng == 1 || size_t_arg)
				d = va_arg(ap, long);
			else
				d = va_arg(ap, int);
			u = d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d;
			out += put_number(sink, ctx, &s, u, 10, 0,
					  d < 0 ? "-" : s.plus ? "+" : s.space ? " " : "");
			break;
		case 'u':
		case 'x':
		case 'X':
			if (lng >= 2)
				u = va_arg(ap, unsigned long long);
			else if (lng == 1 || size_t_arg)
				u = va_arg(ap, unsigned long);
			else
				u = va_arg(ap, unsigned int);
			if (*fmt == 'u')
				out += put_number(sink, ctx, &s, u, 10, 0, "");
			else
				out += put_number(sink, ctx, &s, u, 16, *fmt == 'X',
						  s.alt ? (*fmt == 'X' ? "0X" : "0x") : "");
			break;
		case 'p':
			u = (uintptr_t)va_arg(ap, void *);
			out += put_number(sink, ctx, &s, u, 16, 0, "0x");
			break;
		case 's':
			out += put_string(sink, ctx, &s, va_arg(ap, const char *));
			break;
		case 'c': {
			char c[2] = { (char)va_arg(ap, int), 0 };
			out += put_string(sink, ctx, &s, c);
			break;
		}
		case '%':
			sink(ctx, '%');
			out++;
			break;
		default:
			/* Unknown conversion: print it literally so the mistake shows in the output. */
			sink(ctx, '%');
			out++;
			if (!*fmt)
				return out;
			sink(ctx, *fmt);
			out++;
			break;
		}
	}
	return out;
}

struct buf_sink {
	char *buf;
	size_t size, len;
};

static void buf_put(void *ctx, char c)
{
	struct buf_sink *b = ctx;
	if (b->len + 1 < b->size)
		b->buf[b->len] = c;
	b->len++;
}

size_t fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	struct buf_sink b = { buf, size, 0 };
	va_list ap;

	va_start(ap, fmt);
	fmt_vformat(buf_put, &b, fmt, ap);
	va_end(ap);
	if (size)
		buf[b.len < size ? b.len : size - 1] = 0;
	return b.len;
}
