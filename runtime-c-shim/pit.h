/* Channel 2 of a virtual i8254 PIT with its port 0x61 gate, handled in the exit fast path. */
#ifndef ZAZEN_PIT_H
#define ZAZEN_PIT_H
#include <stdint.h>

#define PIT_PORT_CH2   0x42
#define PIT_PORT_CTRL  0x43
#define PIT_PORT_GATE  0x61 /* the "system control port B" of PC/AT: gate, speaker, OUT2 */

/* One domain's channel 2: counts at 1.193182 MHz from the host TSC while its gate is high. */
struct pit2 {
    uint8_t enabled;
    uint8_t mode;       /* 0-5 (6 and 7 are stored as 2 and 3) */
    uint8_t rw;         /* 1: LSB only, 2: MSB only, 3: LSB then MSB */
    uint8_t port61;     /* bits 0-3 as last written: 0 gate, 1 speaker data, 2-3 NMI masks */
    uint8_t write_msb;  /* rw 3: the next data write is the MSB */
    uint8_t read_msb;   /* rw 3: the next live read is the MSB */
    uint8_t latched;    /* bytes of latched count still to read (0-2) */
    uint8_t latch_msb;  /* rw 3: the next latched byte is the MSB */
    uint8_t status_latched;
    uint8_t status;
    uint8_t armed;      /* a count was loaded (and, in modes 1 and 5, the gate triggered) */
    uint8_t null_count; /* a count was written but not loaded yet */
    uint16_t latch;
    uint8_t lsb;        /* rw 3: the LSB written, waiting for its MSB */
    uint32_t reload;    /* the count in use, 1..65536 (0 is written for 65536) */
    uint64_t start_tsc; /* when the counter started counting from reload */
    uint64_t frozen;    /* ticks counted before the gate went low */
};

/* True if port is one of the model's (0x42, 0x43, 0x61). */
static inline int pit_port(uint32_t port)
{
    return port == PIT_PORT_CH2 || port == PIT_PORT_CTRL || port == PIT_PORT_GATE;
}

/* Resets the model to its power-on state and turns it on or off. */
void pit_reset(struct pit2 *p, int enabled);

/* A byte read from one of the model's ports. */
uint8_t pit_read(struct pit2 *p, uint32_t port);

/* A byte written to one of the model's ports. */
void pit_write(struct pit2 *p, uint32_t port, uint8_t value);

#endif
