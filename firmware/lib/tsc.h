/* TSC frequency discovery, for guests that turn milliseconds into TSC ticks. */
#ifndef FW_TSC_H
#define FW_TSC_H
#include <stdint.h>

/* TSC kHz from Xen's CPUID base+3, else CPUID 0x15, else PIT channel 2 calibration;
 * 0 if none works. *source names the one used ("xen", "cpuid15", "pit", "none"). */
uint32_t tsc_khz(const char **source);

#endif
