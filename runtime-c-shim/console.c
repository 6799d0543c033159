/* The console: output to COM1 and the screen, input from COM1's receive interrupt. */
#include <stdint.h>
#include "console.h"
#include "cpu.h"
#include "screen.h"
#include "serial.h"
#include "timer.h"
#include "x86.h"

#define RING_SIZE 8192 /* power of two */
#define RX_BURST_MAX 4096
#define SCREEN_FLUSH_NS 20000000ULL

volatile int console_interrupt_armed;
volatile int console_interrupt_pending;

static char ring[RING_SIZE];
static volatile uint32_t ring_head, ring_tail; /* head: written by the receiver; tail: by readers */
static uint64_t rx_dropped;
static uint64_t next_flush_ns;

void console_init(void)
{
    serial_init();
}

/* Moves received bytes from the UART into the ring; runs with interrupts off. */
static void receive(void)
{
    char c;
    for (int n = 0; n < RX_BURST_MAX && serial_getc(&c); n++) {
        if (c == 0x03 && console_interrupt_armed) {
            console_interrupt_pending = 1;
            continue;
        }
        uint32_t h = ring_head;
        if (h - ring_tail >= RING_SIZE) {
            rx_dropped++;
            continue;
        }
        ring[h % RING_SIZE] = c;
        __asm__ volatile("" : : : "memory");
        ring_head = h + 1;
    }
}

static void console_irq(uint8_t vector)
{
    (void)vector;
    receive();
    cpu_lapic_eoi();
}

void console_start_input(void)
{
    cpu_set_irq_handler(CPU_VEC_SERIAL, console_irq);
    serial_enable_rx_irq();
}

/* Also polls the UART, so input works even if its interrupt never gets routed. */
static void poll(void)
{
    uint64_t flags = x86_irq_save();
    receive();
    x86_irq_restore(flags);
}

size_t console_read(char *buf, size_t max)
{
    size_t n = 0;
    poll();
    while (n < max && ring_tail != ring_head) {
        buf[n++] = ring[ring_tail % RING_SIZE];
        __asm__ volatile("" : : : "memory");
        ring_tail++;
    }
    return n;
}

int console_input_pending(void)
{
    poll();
    return ring_tail != ring_head;
}

unsigned long long console_rx_dropped(void)
{
    return rx_dropped;
}

void console_write(const char *s, size_t n)
{
    serial_write(s, n);
    screen_write(s, n);
    /* Drawing (above all scrolling a framebuffer) costs far more than the serial bytes,
     * so while output streams the screen is redrawn at most every 20 ms, and never more
     * than a fifth of the time; it is always brought up to date when the CPU goes idle
     * (timer_wait_until) or halts. Before the clock runs, every write draws. */
    uint64_t now = timer_monotonic_ns();
    if (timer_tsc_hz() == 0 || now >= next_flush_ns) {
        screen_flush();
        uint64_t took = timer_monotonic_ns() - now;
        next_flush_ns = now + (4 * took > SCREEN_FLUSH_NS ? 5 * took : SCREEN_FLUSH_NS);
    }
}

void console_flush(void)
{
    screen_flush();
}
