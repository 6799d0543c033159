/* The 16550 UART on COM1: 115200 8N1, polled output, interrupt-driven input. */
#include <stdint.h>
#include "serial.h"
#include "x86.h"

#define COM1 0x3F8
#define REG_DATA 0   /* RBR/THR; DLL when LCR.DLAB */
#define REG_IER  1   /* DLM when LCR.DLAB */
#define REG_IIR  2   /* FCR when written */
#define REG_FCR  2
#define REG_LCR  3
#define REG_MCR  4
#define REG_LSR  5
#define REG_MSR  6
#define REG_SCR  7

#define LCR_8N1  0x03
#define LCR_DLAB 0x80
#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT2 0x08   /* on PCs, gates the UART's interrupt line to the interrupt controller */
#define FCR_ENABLE   0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04
#define LSR_DR   0x01
#define LSR_THRE 0x20
#define IER_RDA  0x01

/* Bounded wait for the transmitter: a wedged or absent UART must not hang the shim. */
#define THRE_SPINS 100000

static int present;

int serial_init(void)
{
    /* The scratch register holds what we write on a real 16550; a missing port floats. */
    x86_outb(COM1 + REG_SCR, 0x5A);
    if (x86_inb(COM1 + REG_SCR) != 0x5A)
        return present = 0;
    x86_outb(COM1 + REG_IER, 0);
    x86_outb(COM1 + REG_LCR, LCR_DLAB);
    x86_outb(COM1 + REG_DATA, 1); /* divisor 1: 115200 baud */
    x86_outb(COM1 + REG_IER, 0);
    x86_outb(COM1 + REG_LCR, LCR_8N1);
    /* FIFOs on, both cleared, receive interrupt at 1 byte: 16 bytes of slack when
     * interrupts are held off. Written exactly once, here, before receive interrupts
     * exist: rewriting FCR later (QEMU) drops bytes already received, and bytes typed
     * before this point belong to the firmware anyway. An 8250/16450 ignores it. */
    x86_outb(COM1 + REG_FCR, FCR_ENABLE | FCR_CLEAR_RX | FCR_CLEAR_TX);
    x86_outb(COM1 + REG_MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
    (void)x86_inb(COM1 + REG_LSR);
    (void)x86_inb(COM1 + REG_IIR);
    (void)x86_inb(COM1 + REG_MSR);
    return present = 1;
}

static void put_raw(char c)
{
    for (int i = 0; i < THRE_SPINS && !(x86_inb(COM1 + REG_LSR) & LSR_THRE); i++)
        x86_pause();
    x86_outb(COM1 + REG_DATA, (uint8_t)c);
}

void serial_write(const char *s, size_t n)
{
    if (!present)
        return;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            put_raw('\r');
        put_raw(s[i]);
    }
}

int serial_getc(char *c)
{
    if (!present || !(x86_inb(COM1 + REG_LSR) & LSR_DR))
        return 0;
    *c = (char)x86_inb(COM1 + REG_DATA);
    return 1;
}

void serial_enable_rx_irq(void)
{
    if (!present)
        return;
    x86_outb(COM1 + REG_IER, IER_RDA);
    (void)x86_inb(COM1 + REG_IIR);
}
