/* The libc symbols the engine needs whose musl versions would make system calls. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "console.h"
#include "klog.h"
#include "timer.h"

/*
 * Everything else the engine calls from musl's libc.a (string, math, strtod, snprintf,
 * qsort) is pure computation. The stdio calls below write straight to the console;
 * there are no files. vfprintf is special: musl's snprintf family formats through the
 * public vfprintf with an in-memory FILE, so replacing it outright would break number
 * formatting; fwrite shares its object file with __fwritex, which vfprintf needs, so
 * it cannot be replaced either. The Makefile links with --wrap=vfprintf and
 * --wrap=fwrite instead: every call lands in __wrap_* below, which serve the console
 * streams and hand in-memory FILEs to musl's own code (__real_*).
 */

/* ---- errno ---- */

static int libc_errno;

/* The thread's errno; musl's reads %fs, which here is no real thread pointer. */
int *__errno_location(void)
{
    return &libc_errno;
}

/* musl's internal name for the same thing, used inside libc.a. */
int *___errno_location(void)
{
    return &libc_errno;
}

/* ---- failure ---- */

/* Stops the machine: nothing can be recovered once the engine calls abort. */
void abort(void)
{
    panic("abort() called");
}

/* Reports a failed assert() and stops. */
void __assert_fail(const char *expr, const char *file, int line, const char *func)
{
    panic("assertion failed: %s (%s:%d, %s)", expr, file, line, func);
}

/* Called by stack-protected code in musl's libc.a when its canary was overwritten. */
void __stack_chk_fail(void)
{
    panic("stack smashing detected");
}

/* ---- time ---- */

/*
 * Wall time = monotonic + offset, for microsecond resolution that never goes back.
 * timer_wall_ms only moves in whole milliseconds, so it only says the offset is at
 * least wall_ms * 10^6 - monotonic. Every call raises the offset to that bound when it
 * is higher: it starts up to 1 ms low and creeps to the exact value as calls land near
 * millisecond steps, without ever busy-waiting for one (that would cost boot time).
 */
static int64_t libc_epoch_offset_ns = INT64_MIN;

static int64_t libc_wall_ns(void)
{
    int64_t mono = (int64_t)timer_monotonic_ns();
    int64_t bound = (int64_t)(timer_wall_ms() * 1000000ull) - mono;
    if (bound > libc_epoch_offset_ns)
        libc_epoch_offset_ns = bound;
    return mono + libc_epoch_offset_ns;
}

/* Wall-clock time (UTC; there are no time zones), for Date.now(). */
int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    (void)tz;
    if (tv) {
        int64_t ns = libc_wall_ns();
        tv->tv_sec = ns / 1000000000;
        tv->tv_usec = (ns % 1000000000) / 1000;
    }
    return 0;
}

/* CLOCK_REALTIME and CLOCK_MONOTONIC; other clocks fail with EINVAL. */
int clock_gettime(clockid_t clock, struct timespec *ts)
{
    int64_t ns;
    if (clock == CLOCK_REALTIME)
        ns = libc_wall_ns();
    else if (clock == CLOCK_MONOTONIC)
        ns = (int64_t)timer_monotonic_ns();
    else {
        errno = EINVAL;
        return -1;
    }
    ts->tv_sec = ns / 1000000000;
    ts->tv_nsec = ns % 1000000000;
    return 0;
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar. */
static int64_t libc_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Splits seconds since the epoch into UTC calendar fields; NULL with EOVERFLOW if the
 * year does not fit. */
struct tm *gmtime_r(const time_t *restrict t, struct tm *restrict tm)
{
    int64_t s = *t, days = s / 86400, rem = s % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    /* Civil date from a day count, counting years from 1 March so leap days fall last. */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int mday = (int)(doy - (153 * mp + 2) / 5 + 1);
    int mon = (int)(mp < 10 ? mp + 3 : mp - 9);
    int64_t year = yoe + era * 400 + (mon <= 2);
    if (year - 1900 > INT_MAX || year - 1900 < INT_MIN) {
        errno = EOVERFLOW;
        return NULL;
    }
    tm->tm_year = (int)(year - 1900);
    tm->tm_mon = mon - 1;
    tm->tm_mday = mday;
    tm->tm_yday = (int)(days - libc_days_from_civil(year, 1, 1));
    tm->tm_wday = (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
    tm->tm_hour = (int)(rem / 3600);
    tm->tm_min = (int)(rem / 60 % 60);
    tm->tm_sec = (int)(rem % 60);
    tm->tm_isdst = 0;
    tm->tm_gmtoff = 0;
    tm->tm_zone = "UTC";
    return tm;
}

/* Local time is UTC: the hypervisor has no time-zone database. */
struct tm *localtime_r(const time_t *restrict t, struct tm *restrict tm)
{
    return gmtime_r(t, tm);
}

/* ---- console stdio ---- */

/* stdout and stderr are tags, not musl FILEs: only the functions below accept them.
 * Defining them here also keeps musl's stdout.o (and its write syscalls) out. */
static const char libc_console_tags[2];
FILE *const stdout = (FILE *)&libc_console_tags[0];
FILE *const stderr = (FILE *)&libc_console_tags[1];

static int libc_is_console(FILE *f)
{
    return f == stdout || f == stderr;
}

static int libc_bad_stream(void)
{
    errno = EBADF;
    return EOF;
}

/* Formats into a stack buffer (the heap for long lines) and writes it to the console. */
static int libc_console_vprintf(const char *fmt, va_list ap)
{
    char buf[256];
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    if (n >= 0 && (size_t)n < sizeof buf) {
        console_write(buf, (size_t)n);
    } else if (n >= 0) {
        char *big = malloc((size_t)n + 1);
        if (big) {
            vsnprintf(big, (size_t)n + 1, fmt, again);
            console_write(big, (size_t)n);
            free(big);
        } else {
            console_write(buf, sizeof buf - 1);
        }
    }
    va_end(again);
    return n;
}

int __real_vfprintf(FILE *restrict f, const char *restrict fmt, va_list ap);

/* vfprintf as everyone sees it (--wrap): the console, or musl's for in-memory FILEs. */
int __wrap_vfprintf(FILE *restrict f, const char *restrict fmt, va_list ap)
{
    if (libc_is_console(f))
        return libc_console_vprintf(fmt, ap);
    return __real_vfprintf(f, fmt, ap);
}

/* printf to the console. */
int vprintf(const char *restrict fmt, va_list ap)
{
    return libc_console_vprintf(fmt, ap);
}

/* printf to the console. */
int printf(const char *restrict fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = libc_console_vprintf(fmt, ap);
    va_end(ap);
    return n;
}

/* fprintf to stdout or stderr (both the console); EBADF for anything else. */
int fprintf(FILE *restrict f, const char *restrict fmt, ...)
{
    if (!libc_is_console(f))
        return libc_bad_stream();
    va_list ap;
    va_start(ap, fmt);
    int n = libc_console_vprintf(fmt, ap);
    va_end(ap);
    return n;
}

size_t __real_fwrite(const void *restrict p, size_t size, size_t n, FILE *restrict f);

/* fwrite as everyone sees it (--wrap): the console, or musl's for in-memory FILEs. */
size_t __wrap_fwrite(const void *restrict p, size_t size, size_t n, FILE *restrict f)
{
    size_t bytes;
    if (!libc_is_console(f))
        return __real_fwrite(p, size, n, f);
    if (__builtin_mul_overflow(size, n, &bytes)) {
        errno = EOVERFLOW;
        return 0;
    }
    console_write(p, bytes);
    return n;
}

/* Writes s to the console stream f. */
int fputs(const char *restrict s, FILE *restrict f)
{
    if (!libc_is_console(f))
        return libc_bad_stream();
    console_write(s, strlen(s));
    return 0;
}

/* Writes s and a newline to the console. */
int puts(const char *s)
{
    console_write(s, strlen(s));
    console_write("\n", 1);
    return 0;
}

/* Writes one byte to the console stream f. */
int fputc(int c, FILE *f)
{
    if (!libc_is_console(f))
        return libc_bad_stream();
    char ch = (char)c;
    console_write(&ch, 1);
    return (unsigned char)c;
}

/* Same as fputc. */
int putc(int c, FILE *f)
{
    return fputc(c, f);
}

/* Writes one byte to the console. */
int putchar(int c)
{
    return fputc(c, stdout);
}

/* The console is unbuffered, so there is never anything to flush. */
int fflush(FILE *f)
{
    if (f && !libc_is_console(f))
        return libc_bad_stream();
    return 0;
}
