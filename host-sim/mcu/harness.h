/* What the mcu bench harnesses (crypt-gcm.c, chacha-poly.c) share: the instruction counter of
 * QEMU's mps2-an500 under -icount shift=0 and "name bytes instructions" lines over semihosting. */

#ifndef BODYCAM_MCU_HARNESS_H
#define BODYCAM_MCU_HARNESS_H

#include <stdint.h>

#define FPGAIO_COUNTER (*(volatile uint32_t*)0x40028018) /* 25 MHz: 40 instructions a tick */

static int semihost(int op, const void* arg)
{
	register int r0 __asm__("r0") = op;
	register const void* r1 __asm__("r1") = arg;
	__asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
	return r0;
}

static void put(const char* s)
{
	semihost(0x04, s); /* SYS_WRITE0 */
}

static void putNumber(uint32_t n)
{
	char b[12];
	int i = 11;
	b[i] = 0;
	do {
		b[--i] = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	put(b + i);
}

static uint32_t instructions(void)
{
	return FPGAIO_COUNTER * 40;
}

static void report(const char* name, uint32_t bytes, uint32_t n)
{
	put(name);
	put(" ");
	putNumber(bytes);
	put(" ");
	putNumber(n);
	put("\n");
}

static void putHex(const char* name, const uint8_t* b, int n)
{
	static const char hex[] = "0123456789abcdef";
	put(name);
	put(" ");
	for (int i = 0; i < n; i++) {
		char d[3] = { hex[b[i] >> 4], hex[b[i] & 15], 0 };
		put(d);
	}
	put("\n");
}

static void exitHarness(void)
{
	uint32_t block[2] = { 0x20026, 0 }; /* ADP_Stopped_ApplicationExit */
	semihost(0x20, block); /* SYS_EXIT_EXTENDED */
	for (;;) {}
}

/* startup.c's fault vector points here (the mcu image's is in host.c). */
void HardFault_Handler(void)
{
	put("hard fault\n");
	uint32_t block[2] = { 0x20024, 1 }; /* ADP_Stopped_InternalError */
	semihost(0x20, block);
	for (;;) {}
}

#endif
