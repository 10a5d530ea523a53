/*
 * bodycam/native: CRC-32 and the hardware RNG for the device Checksum and Random ports.
 *
 * CRC-32 is the zlib/PNG CRC (reflected polynomial 0xEDB88320, init and xorout 0xFFFFFFFF),
 * table-driven from flash, continuing from a previous result like zlib's crc32(crc, buf, len).
 * Random bytes come from esp_fill_random: true random while Wi-Fi or Bluetooth is on, or
 * after bootloader_random_enable(); key generation runs with Wi-Fi up (see README, armoury).
 */

#include "xsmc.h"
#include "xsHost.h"
#include "esp_random.h"

static const uint32_t gCRC32Table[256] = {
#define C(n) (((n) & 1) ? (0xEDB88320UL ^ ((n) >> 1)) : ((n) >> 1))
#define C8(n) C(C(C(C(C(C(C(C((uint32_t)(n)))))))))
#define R4(n) C8(n), C8((n) + 1), C8((n) + 2), C8((n) + 3)
#define R16(n) R4(n), R4((n) + 4), R4((n) + 8), R4((n) + 12)
#define R64(n) R16(n), R16((n) + 16), R16((n) + 32), R16((n) + 48)
	R64(0), R64(64), R64(128), R64(192)
};

uint32_t bodycam_crc32(uint32_t previous, const uint8_t *bytes, uint32_t length)
{
	uint32_t crc = previous ^ 0xFFFFFFFFUL;
	while (length--)
		crc = gCRC32Table[(crc ^ *bytes++) & 0xFF] ^ (crc >> 8);
	return crc ^ 0xFFFFFFFFUL;
}

void xs_bodycam_crc32(xsMachine *the)
{
	void *data;
	xsUnsignedValue length;
	uint32_t previous = 0;

	xsmcGetBufferReadable(xsArg(0), &data, &length);
	if ((xsmcArgc > 1) && xsmcTest(xsArg(1)))
		previous = (uint32_t)xsmcToNumber(xsArg(1));
	xsmcSetUnsigned(xsResult, bodycam_crc32(previous, data, length));
}

void xs_bodycam_fill_random(xsMachine *the)
{
	void *data;
	xsUnsignedValue length;

	xsmcGetBufferWritable(xsArg(0), &data, &length);
	esp_fill_random(data, length);
}
