/* kcl/chacha.c for the mcu bench harness (chacha-poly.c): mcu_xs.h's c_read32 is shaped for
 * xsDataView.c's callers (it reads sizeof a local named `value`), so ChaCha's key and nonce words
 * are read here as the ESP32's c_read32 reads them, four little-endian bytes from any address. */

#include "xsPlatform.h"

static inline uint32_t kcl_read32(const void* p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}
#undef c_read32
#define c_read32(POINTER) kcl_read32(POINTER)

#include "chacha.c"
