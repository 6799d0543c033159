/* Host unit tests for the guests' formatter, option parser and start_info checks. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "guest.h"

const char guest_name[] = "unit";
struct xen_info xen = { .domid = -1 };

static char captured[8192];
static size_t captured_len;
static jmp_buf fail_jump;
static int failures, checks;

/* Stubs for what the tested files call: console output is captured, a FAIL verdict jumps
 * back to the test, and XENMEM_memory_map returns a canned table. */
static void capture_put(void *ctx, char c)
{
	(void)ctx;
	if (captured_len + 1 < sizeof(captured))
		captured[captured_len++] = c, captured[captured_len] = 0;
}
void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fmt_vformat(capture_put, 0, fmt, ap);
	va_end(ap);
}
void verdict_fail(const char *fmt, ...)
{
	va_list ap;
	captured_len = 0;
	captured[0] = 0;
	va_start(ap, fmt);
	fmt_vformat(capture_put, 0, fmt, ap);
	va_end(ap);
	longjmp(fail_jump, 1);
}
static long fake_map_rc;
long xen_memory_map(struct xen_e820_entry *e, unsigned max)
{
	if (fake_map_rc < 0)
		return fake_map_rc;
	if (max < 2)
		return -22;
	e[0] = (struct xen_e820_entry){ 0, 0x9f000, 1 };
	e[1] = (struct xen_e820_entry){ 0x100000, 0x3f00000, 1 };
	return 2;
}

#define CHECK(cond, ...)                                                   \
	do {                                                               \
		checks++;                                                  \
		if (!(cond)) {                                             \
			failures++;                                        \
			printf("FAIL %s:%d: ", __FILE__, __LINE__);        \
			printf(__VA_ARGS__);                               \
			printf("\n");                                      \
		}                                                          \
	} while (0)

#define CHECK_STR(got, want) CHECK(!strcmp((got), (want)), "got \"%s\", want \"%s\"", (got), (want))

/* Each format is checked against the host libc's snprintf. */
#define SAME_AS_LIBC(...)                                                   \
	do {                                                                \
		char mine[128], libc[128];                                  \
		size_t n = fmt_snprintf(mine, sizeof(mine), __VA_ARGS__);   \
		int m = snprintf(libc, sizeof(libc), __VA_ARGS__);          \
		CHECK(!strcmp(mine, libc) && n == (size_t)m, "%s: got \"%s\", libc \"%s\"", \
		      #__VA_ARGS__, mine, libc);                            \
	} while (0)

static void test_fmt(void)
{
	char buf[8];
	uint64_t r;

	SAME_AS_LIBC("%d|%i|%u", -42, 7, 3000000000u);
	SAME_AS_LIBC("[%5d][%-5d][%05d][%+d][% d]", 42, 42, -42, 5, 5);
	SAME_AS_LIBC("%x %X %#x %#X %#010x", 0xbeefu, 0xbeefu, 0x1au, 0x1au, 0x1au);
	SAME_AS_LIBC("%llu %lld %lld", 18446744073709551615ull, -9223372036854775807ll - 1, 0ll);
	SAME_AS_LIBC("%lx %lu %zu %016llx", 0xfffffffful, 123456789ul, (size_t)77, 0x1234ull);
	SAME_AS_LIBC("[%s][%10s][%-10s][%.3s][%*d][%-*d]", "abc", "abc", "abc", "abcdef", 6, 1, 4, 2);
	SAME_AS_LIBC("%c%c %% %.5d %.0d", 'o', 'k', 42, 0);
	SAME_AS_LIBC("%p", (void *)0x1234);
	SAME_AS_LIBC("%08.3x", 0x5u);
	/* Deliberate difference from C: "#" prefixes zero too, so hex fields look alike. */
	fmt_snprintf(buf, sizeof(buf), "%#x", 0u);
	CHECK_STR(buf, "0x0");
	CHECK(fmt_snprintf(buf, sizeof(buf), "%s", "0123456789") == 10, "untruncated length");
	CHECK_STR(buf, "0123456");
	fmt_snprintf(buf, sizeof(buf), "%q%");
	CHECK_STR(buf, "%q%");
	fmt_snprintf(buf, sizeof(buf), "%s", (char *)0);
	CHECK_STR(buf, "(null)");

	/* The shift-subtract division the 32-bit guests use, against the host's. */
	static const uint64_t nums[] = { 0, 1, 9, 10, 0xffffffffull, 0x100000000ull,
					 18446744073709551615ull, 1234567890123456789ull };
	static const uint64_t dens[] = { 1, 3, 10, 16, 1000, 0xffffffffull, 0x100000001ull,
					 18446744073709551615ull };
	for (unsigned i = 0; i < 8; i++)
		for (unsigned j = 0; j < 8; j++) {
			uint64_t q = fmt_udivmod64(nums[i], dens[j], &r);
			CHECK(q == nums[i] / dens[j] && r == nums[i] % dens[j],
			      "udivmod64(%llu, %llu)", (unsigned long long)nums[i],
			      (unsigned long long)dens[j]);
		}
}

/* Runs opt_num/opt_choice expecting a FAIL verdict whose text contains want. */
#define EXPECT_VERDICT(call, want)                                                 \
	do {                                                                       \
		if (!setjmp(fail_jump)) {                                          \
			call;                                                      \
			CHECK(0, "%s did not fail", #call);                        \
		} else {                                                           \
			CHECK(strstr(captured, want), "verdict \"%s\" lacks \"%s\"", \
			      captured, want);                                     \
		}                                                                  \
	} while (0)

static void test_opt(void)
{
	static const char *const names[] = { "poweroff", "reboot", "crash" };
	char long_line[2100];
	uint64_t v;

	CHECK(opt_init("  a=1 flag\tb=x=y a=2 ") == 0, "opt_init");
	CHECK_STR(opt_get("a"), "2");
	CHECK_STR(opt_get("flag"), "");
	CHECK_STR(opt_get("b"), "x=y");
	CHECK(opt_get("c") == 0, "absent key");
	CHECK(opt_init("") == 0 && opt_get("a") == 0, "empty line");

	CHECK(opt_parse_u64("0", &v) == 0 && v == 0, "0");
	CHECK(opt_parse_u64("18446744073709551615", &v) == 0 && v == UINT64_MAX, "max dec");
	CHECK(opt_parse_u64("0xFFFFffffFFFFffff", &v) == 0 && v == UINT64_MAX, "max hex");
	CHECK(opt_parse_u64("18446744073709551616", &v) == -1, "overflow dec");
	CHECK(opt_parse_u64("0x10000000000000000", &v) == -1, "overflow hex");
	CHECK(opt_parse_u64("", &v) == -1 && opt_parse_u64("0x", &v) == -1, "empty");
	CHECK(opt_parse_u64("12a", &v) == -1 && opt_parse_u64("-1", &v) == -1, "junk");
	CHECK(opt_parse_u64("0x1f", &v) == 0 && v == 31, "hex");

	opt_init("n=12 big=300 bad=1x r=crash q=nope e=");
	CHECK(opt_num("n", 5, 100) == 12, "opt_num");
	CHECK(opt_num("missing", 5, 100) == 5, "default");
	EXPECT_VERDICT(opt_num("big", 0, 255), "bad option big=300: at most 255");
	EXPECT_VERDICT(opt_num("bad", 0, 255), "bad option bad=1x: expected a number");
	EXPECT_VERDICT(opt_num("e", 0, 255), "bad option e=: expected a number");
	CHECK(opt_choice("r", names, 3, 0) == 2, "opt_choice");
	CHECK(opt_choice("missing", names, 3, 1) == 1, "choice default");
	EXPECT_VERDICT(opt_choice("q", names, 3, 0), "bad option q=nope: expected poweroff|reboot|crash");

	memset(long_line, 'a', 2048);
	long_line[2048] = 0;
	CHECK(opt_init(long_line) != 0, "2048-byte line refused");
	long_line[0] = 0;
	for (int i = 0; i < 65; i++)
		strcat(long_line, "k ");
	CHECK(opt_init(long_line) != 0, "65 options refused");
}

static void test_startinfo(void)
{
	/* MAP_32BIT: the guests only follow addresses below 4 GiB, so the fake memory must be. */
	unsigned char *mem = mmap(0, 0x10000, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	struct hvm_start_info *si = (void *)mem;
	struct hvm_memmap_entry *mm = (void *)(mem + 0x100);
	struct hvm_modlist_entry *mod = (void *)(mem + 0x200);
	char *cmd = (char *)(mem + 0x1000);
	uint32_t phys = (uint32_t)(uintptr_t)mem;
	struct boot b;

	CHECK(mem != MAP_FAILED, "mmap");
	memset(mem, 0, 0x10000);
	CHECK(si_parse(0, &b) && strstr(si_parse(0, &b), "is 0"), "null start_info");
	CHECK(si_parse(phys, &b) && strstr(si_parse(phys, &b), "magic"), "bad magic");

	si->magic = HVM_START_MAGIC;
	si->version = 1;
	strcpy(cmd, "code=3 spin_ms=500");
	si->cmdline_paddr = (uintptr_t)cmd;
	mm[0] = (struct hvm_memmap_entry){ 0, 0x9fc00, 1, 0 };
	mm[1] = (struct hvm_memmap_entry){ 0x100000, 0x400000, 1, 0 };
	mm[2] = (struct hvm_memmap_entry){ 0xfeff8000, 0x8000, 2, 0 };
	si->memmap_paddr = (uintptr_t)mm;
	si->memmap_entries = 3;
	mod[0] = (struct hvm_modlist_entry){ 0x800000, 4096, (uintptr_t)(cmd + 0x100), 0 };
	strcpy(cmd + 0x100, "initrd");
	si->modlist_paddr = (uintptr_t)mod;
	si->nr_modules = 1;
	CHECK(si_parse(phys, &b) == 0, "valid v1: %s", si_parse(phys, &b));
	CHECK_STR(b.cmdline, "code=3 spin_ms=500");
	CHECK(b.nr_memmap == 3 && b.nr_modules == 1, "counts");
	CHECK_STR(b.memmap_source, "start_info");
	captured_len = 0;
	si_print_memmap(&b);
	si_print_modules(&b);
	CHECK(strstr(captured, "memmap 2 0x00000000feff8000-0x00000000ff000000 reserved\n"),
	      "memmap line: %s", captured);
	CHECK(strstr(captured, "memmap summary entries=3 ram_kib=4735 source=start_info\n"),
	      "summary: %s", captured);
	CHECK(strstr(captured, "module 0 paddr=0x800000 size=4096 cmdline=\"initrd\"\n"),
	      "module: %s", captured);

	/* Version 0 has no memmap fields: they must be ignored even if non-zero. */
	si->version = 0;
	CHECK(si_parse(phys, &b) == 0 && b.nr_memmap == 0, "v0 ignores memmap");
	xen.present = 1;
	CHECK(si_memmap_from_xen(&b) == 0 && b.nr_memmap == 2, "memory_op fallback");
	CHECK(b.memmap[1].addr == 0x100000 && b.memmap[1].size == 0x3f00000 &&
	      b.memmap[1].type == 1, "converted entry");
	CHECK_STR(b.memmap_source, "memory_op");
	fake_map_rc = -38;
	si_parse(phys, &b);
	CHECK(si_memmap_from_xen(&b) != 0 && b.nr_memmap == 0, "memory_op failure reported");
	xen.present = 0;
	si->version = 1;

	si->memmap_entries = 129;
	CHECK(si_parse(phys, &b) != 0, "too many memmap entries");
	si->memmap_entries = 3;
	si->memmap_paddr = 0x1ffffff00ull;
	CHECK(si_parse(phys, &b) != 0, "memmap above 4 GiB");
	si->memmap_paddr = (uintptr_t)mm;
	si->nr_modules = 65;
	CHECK(si_parse(phys, &b) != 0, "too many modules");
	si->nr_modules = 0;
	si->cmdline_paddr = 0x100000000ull;
	CHECK(si_parse(phys, &b) != 0, "cmdline above 4 GiB");
	memset(cmd, 'x', 2048);
	si->cmdline_paddr = (uintptr_t)cmd;
	CHECK(si_parse(phys, &b) && strstr(si_parse(phys, &b), "NUL"), "unterminated cmdline");
	si->cmdline_paddr = 0;
	CHECK(si_parse(phys, &b) == 0 && b.cmdline[0] == 0, "no cmdline gives \"\"");
	munmap(mem, 0x10000);
}

int main(void)
{
	test_fmt();
	test_opt();
	test_startinfo();
	printf("unit: %d checks, %d failed\n", checks, failures);
	return failures != 0;
}
