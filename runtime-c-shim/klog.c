/* The shim's log: timestamped printf lines to the console and a 64 KiB buffer for dmesg. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "console.h"
#include "klog.h"
#include "timer.h"
#include "trap.h"
#include "x86.h"

#define LOG_SIZE (64 * 1024)
#define MSG_MAX 1024

static char log_buf[LOG_SIZE];
static size_t log_len;
static int at_line_start = 1;

/* Appends to the log; when full, drops the oldest whole lines, keeping it contiguous. */
static void log_append(const char *s, size_t n)
{
    if (n > LOG_SIZE / 2)
        n = LOG_SIZE / 2;
    if (log_len + n > LOG_SIZE) {
        size_t cut = log_len + n - LOG_SIZE + LOG_SIZE / 8;
        while (cut < log_len && log_buf[cut - 1] != '\n')
            cut++;
        if (cut > log_len)
            cut = log_len;
        memmove(log_buf, log_buf + cut, log_len - cut);
        log_len -= cut;
    }
    memcpy(log_buf + log_len, s, n);
    log_len += n;
}

/*
 * Writes text, putting a "[seconds.micros] " stamp in front of every line. The log
 * buffer and the line state are updated with interrupts off, so a handler that logs
 * meanwhile cannot tear them; the console output itself runs with interrupts as they
 * were: a slow UART (87 us a byte at 115200) must not hold off the receive interrupt.
 */
static void emit_lines(const char *s, size_t n)
{
    while (n > 0) {
        char stamp[32];
        size_t k = 0;
        uint64_t flags = x86_irq_save();
        if (at_line_start && s[0] != '\n') { /* blank lines get no stamp */
            uint64_t us = timer_monotonic_ns() / 1000;
            k = (size_t)snprintf(stamp, sizeof(stamp), "[%4llu.%06llu] ",
                                 (unsigned long long)(us / 1000000),
                                 (unsigned long long)(us % 1000000));
            log_append(stamp, k);
        }
        const char *nl = memchr(s, '\n', n);
        size_t len = nl ? (size_t)(nl - s) + 1 : n;
        log_append(s, len);
        at_line_start = nl != 0;
        x86_irq_restore(flags);
        if (k)
            console_write(stamp, k);
        console_write(s, len);
        s += len;
        n -= len;
    }
}

static void vklog(const char *fmt, va_list ap)
{
    char msg[MSG_MAX];
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(msg)) {
        n = sizeof(msg) - 1;
        memcpy(msg + n - 4, "...\n", 4); /* truncated */
    }
    emit_lines(msg, (size_t)n);
}

void klog(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vklog(fmt, ap);
    va_end(ap);
}

const char *klog_buffer(size_t *len)
{
    *len = log_len;
    return log_buf;
}

void panic(const char *fmt, ...)
{
    va_list ap;
    __asm__ volatile("cli");
    klog("\n*** zazen panic: ");
    va_start(ap, fmt);
    vklog(fmt, ap);
    va_end(ap);
    if (!at_line_start)
        klog("\n");
    trap_backtrace((uint64_t)__builtin_frame_address(0));
    klog("*** halted\n");
    console_flush();
    x86_halt_forever();
}
