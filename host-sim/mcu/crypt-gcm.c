/* What the camera's Cipher port costs natively, measured on the mcu engine's Cortex-M7 (QEMU
 * mps2-an500, one instruction per virtual nanosecond): firmware/device/cipher.ts seals a record
 * with Moddable SDK 8.2.3 crypt's natives, whose work is KCL's C — aes_encrypt4 (kcl/fips197.c,
 * software AES with tables) in modCrypt.c's CTR loop, and kcl/ghash.c's bitwise GHASH. This runs
 * that same C on the same core, compiled as the mcu image is (-Os), for one AES-256-GCM seal of
 * 25 KiB and of 100 KiB, and prints "name bytes instructions" lines over semihosting for
 * `npm run bench -- cipher`. The JavaScript around it (a handful of native calls) is measured by
 * the bench on the XS engines; this is the part that grows with the record. */

#include <stdint.h>
#include <string.h>
#include "fips197.h"
#include "ghash.h"

#include "harness.h"

static uint8_t data[100 * 1024];
static uint32_t subkey[(14 + 1) * 4];

/* modCrypt.c's CTR loop (xs_crypt_mode_decrypt, kCryptModeCTR), in place. */
static void ctr(uint8_t* p, uint32_t count, uint8_t* ctrbuf)
{
	uint8_t t[16];
	while (count) {
		int i;
		aes_encrypt4(ctrbuf, t, 14, subkey);
		for (i = 0; count && i < 16; i++, --count) *p++ ^= t[i];
		if (count) {
			uint8_t c;
			for (i = 16, c = 1; --i >= 0 && c;) {
				uint8_t old = ctrbuf[i];
				ctrbuf[i]++;
				c = ctrbuf[i] < old;
			}
		}
	}
}

int main(void)
{
	static const uint8_t key[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };
	uint8_t zero[16] = { 0 }, h[16], counter[16], tag[16], ek[16];
	uint8_t aad[12] = { 0x53, 0x52, 1, 48 };
	uint32_t t0 = instructions();
	aes_keysched(key, 8, 4, 14, aes_cipher_encryption, subkey);
	aes_encrypt4(zero, h, 14, subkey);
	report("create", 0, instructions() - t0);
	static const uint32_t sizes[2] = { 25 * 1024, 100 * 1024 };
	for (int s = 0; s < 2; s++) {
		uint32_t n = sizes[s];
		for (uint32_t i = 0; i < n; i++) data[i] = (uint8_t)(i * 7);
		/* The adapter's seal: CTR from nonce ‖ 2, GHASH over aad and ciphertext, E(K, J0). */
		uint32_t a = instructions();
		memset(counter, 0, 16);
		counter[15] = 2;
		ctr(data, n, counter);
		uint32_t b = instructions();
		ghash_t g;
		memcpy(&g.h, h, 16);
		_ghash_fix128(&g.h);
		memset(&g.y, 0, sizeof(g.y));
		_ghash_update(&g, aad, sizeof(aad));
		memcpy(&g.y0, &g.y, sizeof(g.y));
		g.aad_len = sizeof(aad);
		_ghash_create(&g);
		_ghash_update(&g, data, n);
		_ghash_fin(&g, tag);
		memset(counter, 0, 16);
		counter[15] = 1;
		aes_encrypt4(counter, ek, 14, subkey);
		for (int i = 0; i < 16; i++) tag[i] ^= ek[i];
		uint32_t c = instructions();
		report("aes-ctr", n, b - a);
		report("ghash", n, c - b);
		report("seal", n, c - a);
	}
	putHex("tag", tag, 16);
	exitHarness();
}
