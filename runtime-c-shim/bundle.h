/* The bundle's bytecode, written into build/bundle.c by the host qjsc (-c -N zazen_bundle). */
#ifndef ZAZEN_BUNDLE_H
#define ZAZEN_BUNDLE_H
#include <stdint.h>

extern const uint8_t zazen_bundle[];
extern const uint32_t zazen_bundle_size;

#endif
