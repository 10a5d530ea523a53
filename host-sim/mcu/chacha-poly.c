/* What ChaCha20-Poly1305 would cost the camera natively, measured like crypt-gcm.c on the mcu
 * engine's Cortex-M7 (QEMU mps2-an500, one instruction per virtual nanosecond): Moddable SDK
 * 8.2.3 crypt's ChaCha20 (kcl/chacha.c's chacha_process, which StreamCipher("ChaCha") runs, IETF
 * layout: 12-byte nonce, 32-bit block counter) and the firmware's Poly1305
 * (firmware/device/native/poly1305.c), compiled as the mcu image is (-Os), for one seal of 25 KiB
 * and of 100 KiB as firmware/device/cipher.ts makes it: block 0 gives the one-time key, the data
 * is encrypted in place from block 1, the tag is Poly1305 over aad ‖ pad ‖ ciphertext ‖ pad ‖
 * lengths. Prints "name bytes instructions" lines and the last tag for `npm run bench -- cipher`. */

#include <stdint.h>
#include <string.h>
#include "chacha.h"
#include "harness.h"

void bodycam_poly1305_aead(const uint8_t key[32], const uint8_t* aad, uint32_t aadLength, const uint8_t* data, uint32_t dataLength, uint8_t mac[16]);

static uint8_t data[100 * 1024];

int main(void)
{
	static const uint8_t key[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };
	static const uint8_t nonce[12] = { 0 };
	uint8_t aad[12] = { 0x53, 0x52, 1, 48 };
	uint8_t otk[64], tag[16];
	chacha_ctx ctx;
	uint32_t t0 = instructions();
	chacha_keysetup(&ctx, key, 32);
	report("create", 0, instructions() - t0);
	static const uint32_t sizes[2] = { 25 * 1024, 100 * 1024 };
	for (int s = 0; s < 2; s++) {
		uint32_t n = sizes[s];
		for (uint32_t i = 0; i < n; i++) data[i] = (uint8_t)(i * 7);
		uint32_t a = instructions();
		chacha_ivsetup(&ctx, nonce, 12, 0);
		memset(otk, 0, sizeof(otk));
		chacha_process(otk, otk, 64, &ctx); /* block 0: the Poly1305 key */
		chacha_process(data, data, n, &ctx); /* blocks 1…: the data, in place */
		uint32_t b = instructions();
		bodycam_poly1305_aead(otk, aad, sizeof(aad), data, n, tag);
		uint32_t c = instructions();
		report("chacha20", n, b - a);
		report("poly1305", n, c - b);
		report("seal", n, c - a);
	}
	putHex("tag", tag, 16);
	exitHarness();
}
