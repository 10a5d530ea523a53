/*
 * The bare-metal XS host for the emulated microcontroller (QEMU mps2-an500, Cortex-M7).
 *
 * It speaks the xsnap-worker protocol (host-sim/xs/worker.ts) over ARM semihosting, so the
 * guest bundle runs unchanged. Device to host: netstrings on the ":tt" console, which QEMU
 * (-semihosting-config target=native) maps to its stdout. Host to device: each message in a
 * file, announced by one byte on QEMU's stdin (see readMessage). The host sends `e<source>`
 * (evaluate a program) or `?<bytes>` (call globalThis.handleCommand); while it runs, XS may send
 * `?<bytes>` (globalThis.issueCommand) and block for `/<bytes>`; each request ends with
 * `.{meter JSON}\x01<reply>` or `!<error text>`. Extra messages: `p<text>` (output from print or
 * the C library), `x{JSON}` (fatal: out of memory, stack overflow; the device then exits),
 * host->device `h<bytes>` (set the heap ceiling), `k` (calibrate the counter), `q` (quit).
 *
 * Every allocation (XS chunks and slots, the parser, bridge buffers) goes through mcu_malloc,
 * which counts live bytes and refuses to exceed the heap ceiling. Instruction counts come from
 * the board's FPGA counter, which QEMU drives from its virtual clock: with -icount shift=0 one
 * instruction is one nanosecond, so one 25 MHz tick is 40 instructions.
 */

#include "xsAll.h"
#include "xs.h"
#include <malloc.h>

/* ---- semihosting ---------------------------------------------------------------------- */

enum {
	SYS_OPEN = 0x01,
	SYS_CLOSE = 0x02,
	SYS_FLEN = 0x0C,
	SYS_WRITE = 0x05,
	SYS_READ = 0x06,
	SYS_GET_CMDLINE = 0x15,
	SYS_EXIT = 0x18,
	SYS_EXIT_EXTENDED = 0x20,
};
#define ADP_Stopped_ApplicationExit 0x20026

static int semihost(int op, const void* arg)
{
	register int r0 __asm__("r0") = op;
	register const void* r1 __asm__("r1") = arg;
	__asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
	return r0;
}

static int conIn = -1, conOut = -1;

static void conOpen(void)
{
	uint32_t in[3] = { (uint32_t)":tt", 0 /* r */, 3 };
	uint32_t out[3] = { (uint32_t)":tt", 4 /* w */, 3 };
	conIn = semihost(SYS_OPEN, in);
	conOut = semihost(SYS_OPEN, out);
}

static void __attribute__((noreturn)) deviceExit(int code)
{
	uint32_t block[2] = { ADP_Stopped_ApplicationExit, (uint32_t)code };
	semihost(SYS_EXIT_EXTENDED, block);
	semihost(SYS_EXIT, (void*)ADP_Stopped_ApplicationExit);
	for (;;) {}
}

static void conWrite(const void* data, size_t size)
{
	const uint8_t* p = data;
	while (size) {
		uint32_t block[3] = { (uint32_t)conOut, (uint32_t)p, (uint32_t)size };
		int left = semihost(SYS_WRITE, block);
		if (left < 0 || (size_t)left > size) deviceExit(70);
		p += size - left;
		size = left;
	}
}

static void sendNetString(char kind, const void* a, size_t aSize, const void* b, size_t bSize)
{
	char head[16];
	int n = snprintf(head, sizeof(head), "%u:%c", (unsigned)(1 + aSize + bSize), kind);
	conWrite(head, n);
	if (aSize) conWrite(a, aSize);
	if (bSize) conWrite(b, bSize);
	conWrite(",", 1);
}

/* ---- instruction counter --------------------------------------------------------------- */

#define FPGAIO_COUNTER (*(volatile uint32_t*)0x40028018)

static uint32_t instructionsPerTick = 40;
static uint32_t lastTicks = 0;
static uint64_t tickHigh = 0;

static uint64_t ticksNow(void)
{
	uint32_t t = FPGAIO_COUNTER;
	if (t < lastTicks) tickHigh += 1ULL << 32;
	lastTicks = t;
	return tickHigh | t;
}

static uint64_t instructionsNow(void)
{
	return ticksNow() * instructionsPerTick;
}

int mcu_gettimeofday(c_timeval* tp, struct c_timezone* tzp)
{
	/* Deterministic: virtual time since reset (25 MHz ticks). */
	uint64_t us = ticksNow() / 25;
	tp->tv_sec = (time_t)(us / 1000000);
	tp->tv_usec = (suseconds_t)(us % 1000000);
	(void)tzp;
	return 0;
}

/* ---- heap accounting ------------------------------------------------------------------- */

static size_t heapCeiling = 4 * 1024 * 1024;
static size_t heapInUse = 0;
static size_t heapPeak = 0;        /* since the last request began */
static size_t heapPeakEver = 0;
static size_t heapRefused = 0;     /* size of the last refused allocation */
static char* sbrkTop = 0;
static char* sbrkPeak = 0;         /* the most RAM the C heap ever took (malloc trims on free) */
extern char __heap_start, __heap_end;

void* _sbrk(ptrdiff_t increment)
{
	if (!sbrkTop) sbrkTop = &__heap_start;
	if (sbrkTop + increment > &__heap_end || sbrkTop + increment < &__heap_start) return (void*)-1;
	char* previous = sbrkTop;
	sbrkTop += increment;
	if (sbrkTop > sbrkPeak) sbrkPeak = sbrkTop;
	return previous;
}

static void noteAllocation(size_t size)
{
	heapInUse += size;
	if (heapInUse > heapPeak) heapPeak = heapInUse;
	if (heapInUse > heapPeakEver) heapPeakEver = heapInUse;
}

void* mcu_malloc(size_t size)
{
	if (heapInUse + size > heapCeiling) {
		heapRefused = size;
		return NULL;
	}
	void* p = malloc(size);
	if (p) noteAllocation(malloc_usable_size(p));
	else heapRefused = size;
	return p;
}

void* mcu_calloc(size_t count, size_t size)
{
	void* p = mcu_malloc(count * size);
	if (p) memset(p, 0, count * size);
	return p;
}

void mcu_free(void* p)
{
	if (!p) return;
	heapInUse -= malloc_usable_size(p);
	free(p);
}

void* mcu_realloc(void* p, size_t size)
{
	if (!p) return mcu_malloc(size);
	size_t old = malloc_usable_size(p);
	if (heapInUse - old + size > heapCeiling) {
		heapRefused = size;
		return NULL;
	}
	void* q = realloc(p, size);
	if (q) {
		heapInUse -= old;
		noteAllocation(malloc_usable_size(q));
	}
	else heapRefused = size;
	return q;
}

/* ---- output from the C library and print() --------------------------------------------- */

int _write(int fd, const char* data, int size)
{
	(void)fd;
	if (size > 0) sendNetString('p', data, size, NULL, 0);
	return size;
}

/* ---- fatal reports --------------------------------------------------------------------- */

static void __attribute__((noreturn)) fatal(const char* reason, int code)
{
	char json[400];
	int n = snprintf(json, sizeof(json),
		"{\"reason\":\"%s\",\"heapCeiling\":%u,\"heapInUse\":%u,\"heapPeak\":%u,\"refused\":%u}",
		reason, (unsigned)heapCeiling, (unsigned)heapInUse, (unsigned)heapPeakEver, (unsigned)heapRefused);
	sendNetString('x', json, n, NULL, 0);
	deviceExit(code);
}

/* A fault: name it with the fault status and the faulting instruction (see the .map file). */
void Fault_Report(uint32_t* frame)
{
	static char reason[96];
	snprintf(reason, sizeof(reason), "hard fault: CFSR 0x%08lx at pc 0x%08lx (lr 0x%08lx)",
		(unsigned long)*(volatile uint32_t*)0xE000ED28, (unsigned long)frame[6], (unsigned long)frame[5]);
	fatal(reason, 71);
}

void __attribute__((naked)) HardFault_Handler(void)
{
	__asm__ volatile(
		"tst lr, #4\n"
		"ite eq\n"
		"mrseq r0, msp\n"
		"mrsne r0, psp\n"
		"b Fault_Report\n");
}

static void* requireMemory(size_t size)
{
	void* p = mcu_malloc(size);
	if (!p) fatal("out of memory", 72);
	return p;
}

/* One message from the host, in a buffer the caller frees with mcu_free. The host writes it to
 * a file and then sends one byte on the console: a one-byte read always takes one call and a
 * file read returns everything at once, so receiving costs the same instructions whatever the
 * pipe's timing (reading a pipe in pieces would make instruction counts jitter). */
static char messagePath[240];

static uint8_t* readMessage(size_t* size)
{
	uint8_t token;
	uint32_t wait[3] = { (uint32_t)conIn, (uint32_t)&token, 1 };
	if (semihost(SYS_READ, wait) != 0) deviceExit(0); /* the host went away */
	uint32_t open[3] = { (uint32_t)messagePath, 1 /* rb */, strlen(messagePath) };
	int fd = semihost(SYS_OPEN, open);
	if (fd < 0) fatal("cannot open the message file", 73);
	uint32_t flen[1] = { (uint32_t)fd };
	int n = semihost(SYS_FLEN, flen);
	if (n < 0) fatal("cannot size the message file", 73);
	uint8_t* buffer = requireMemory(n + 1);
	uint32_t read[3] = { (uint32_t)fd, (uint32_t)buffer, (uint32_t)n };
	if (semihost(SYS_READ, read) != 0) fatal("short read of the message file", 73);
	semihost(SYS_CLOSE, flen);
	buffer[n] = 0;
	*size = n;
	return buffer;
}

/* ---- XS platform hooks ----------------------------------------------------------------- */

void fxAbort(txMachine* the, int status)
{
	switch (status) {
	case XS_NOT_ENOUGH_MEMORY_EXIT:
		fatal("out of memory", 72);
	case XS_STACK_OVERFLOW_EXIT:
		fatal("stack overflow", 74);
	case XS_NO_MORE_KEYS_EXIT:
		fatal("not enough keys", 75);
	case XS_UNHANDLED_REJECTION_EXIT:
		fxReport(the, "unhandled rejection: %s\n", fxToString(the, &mxException));
		mxException = mxUndefined;
		break;
	default:
		the->abortStatus = status;
		fxExitToHost(the);
		break;
	}
}

void fxQueuePromiseJobs(txMachine* the)
{
	the->promiseJobs = 1;
}

txID fxFindModule(txMachine* the, txSlot* realm, txID moduleID, txSlot* slot)
{
	(void)realm; (void)moduleID; (void)slot;
	mxReferenceError("modules are not available on the MCU host; the firmware is one bundle");
	return XS_NO_ID;
}

void fxLoadModule(txMachine* the, txSlot* module, txID moduleID)
{
	(void)module; (void)moduleID;
	mxReferenceError("modules are not available on the MCU host");
}

static void runJobs(txMachine* the)
{
	do {
		while (the->promiseJobs) {
			the->promiseJobs = 0;
			fxRunPromiseJobs(the);
		}
		fxEndJob(the);
	} while (the->promiseJobs);
	fxCheckUnhandledRejections(the, 1);
}

/* ---- host functions the guest bundle uses ---------------------------------------------- */

static uint64_t requestStart = 0;

static void xs_issueCommand(xsMachine* the)
{
	if (xsToInteger(xsArgc) < 1) xsTypeError("expected ArrayBuffer");
	size_t length = xsGetArrayBufferLength(xsArg(0));
	sendNetString('?', xsToArrayBuffer(xsArg(0)), length, NULL, 0);
	size_t size;
	uint8_t* reply = readMessage(&size);
	if (size == 0 || reply[0] != '/') {
		mcu_free(reply);
		xsUnknownError("unexpected reply to issueCommand");
	}
	xsResult = xsArrayBuffer(reply + 1, size - 1);
	mcu_free(reply);
}

static void xs_print(xsMachine* the)
{
	xsIntegerValue c = xsToInteger(xsArgc), i;
	for (i = 0; i < c; i++) {
		xsStringValue s = xsToString(xsArg(i));
		if (i) sendNetString('p', " ", 1, NULL, 0);
		sendNetString('p', s, strlen(s), NULL, 0);
	}
	sendNetString('p', "\n", 1, NULL, 0);
}

/* The guest reads its meter with resetMeter(limit, 0) / resetMeter(limit, v): here the meter is
 * the instruction count since the request began, which no one can set, so both return it. */
static void xs_resetMeter(xsMachine* the)
{
	xsResult = xsNumber((double)(instructionsNow() - requestStart));
}

static void xs_currentMeterLimit(xsMachine* the)
{
	xsResult = xsNumber(0);
}

/* ---- requests -------------------------------------------------------------------------- */

/* Bytes of bytecode in the chunk heap. A device build keeps bytecode in flash (preloaded by
 * the Moddable tools); here the bundle is parsed on the device, so its code sits in the heap.
 * Walked after the request's instructions were counted, so it costs the figures nothing. */
static size_t codeBytes(txMachine* the)
{
	size_t total = 0;
	for (txSlot* heap = the->firstHeap; heap; heap = heap->next) {
		for (txSlot* slot = heap + 1; slot < heap->value.reference; slot++) {
			if (slot->kind == XS_CODE_KIND && slot->value.code.address)
				total += ((txChunk*)(slot->value.code.address - sizeof(txChunk)))->size;
		}
	}
	return total;
}

static void sendMeter(txMachine* the, uint64_t instructions, const void* reply, size_t replySize)
{
	char json[400];
	int n = snprintf(json, sizeof(json),
		"{\"instructions\":%llu,\"heapInUse\":%u,\"heapPeak\":%u,\"heapPeakEver\":%u,\"heapCeiling\":%u,"
		"\"footprint\":%u,\"chunks\":%u,\"slots\":%u,\"code\":%u}\x01",
		(unsigned long long)instructions, (unsigned)heapInUse, (unsigned)heapPeak, (unsigned)heapPeakEver,
		(unsigned)heapCeiling, (unsigned)(sbrkPeak ? sbrkPeak - &__heap_start : 0),
		(unsigned)the->currentChunksSize, (unsigned)the->currentHeapCount, (unsigned)codeBytes(the));
	sendNetString('.', json, n, reply, replySize);
}

/* evaluate() and command(): the bridge's requests, shared with the moddable engine's host.
 * Instructions count from the call into the firmware: receiving the message is the transport's
 * cost (xsnap does not meter its pipe either); issueCommand's is the guest's bridge. */
#define REQUEST_OK(THE, REPLY, SIZE) sendMeter(THE, instructionsNow() - requestStart, REPLY, SIZE)
#define REQUEST_CALL_STARTS() (requestStart = instructionsNow())
#include "../bridge/xs-requests.h"

/* A loop of a known instruction count, so the host can check the counter's scale. */
static void calibrate(void)
{
	uint32_t n = 1000000;
	uint64_t t0 = ticksNow();
	__asm__ volatile(
		"1: subs %0, %0, #1\n"
		"   bne 1b\n"
		: "+r"(n) : : "cc");
	uint64_t ticks = ticksNow() - t0;
	char json[96];
	int len = snprintf(json, sizeof(json), "{\"loopInstructions\":2000000,\"ticks\":%llu}\x01", (unsigned long long)ticks);
	sendNetString('.', json, len, NULL, 0);
}

static uint32_t argumentAt(const char* cmdline, int index, uint32_t fallback)
{
	const char* p = cmdline;
	for (int i = 0; i < index && p; i++) {
		p = strchr(p, ' ');
		if (p) p++;
	}
	if (!p || *p < '0' || *p > '9') return fallback;
	return (uint32_t)strtoul(p, NULL, 10);
}

int main(void)
{
	static char cmdline[256];
	uint32_t block[2] = { (uint32_t)cmdline, sizeof(cmdline) - 1 };
	if (semihost(SYS_GET_CMDLINE, block) != 0) cmdline[0] = 0;
	/* argv: <name> <heap ceiling bytes> <instructions per counter tick> <message file path> */
	heapCeiling = argumentAt(cmdline, 1, heapCeiling);
	instructionsPerTick = argumentAt(cmdline, 2, instructionsPerTick);
	{
		const char* p = cmdline;
		for (int i = 0; i < 3 && p; i++) {
			p = strchr(p, ' ');
			if (p) p++;
		}
		if (!p || !*p || strlen(p) >= sizeof(messagePath)) deviceExit(64);
		strcpy(messagePath, p);
	}
	conOpen();

	xsCreation creation = {
		16 * 1024,  /* initialChunkSize */
		16 * 1024,  /* incrementalChunkSize */
		1024,       /* initialHeapCount */
		512,        /* incrementalHeapCount */
		4096,       /* stackCount: parsing the whole bundle on the device needs more than a precompiled Moddable build does */
		1024,       /* initialKeyCount */
		256,        /* incrementalKeyCount */
		127,        /* nameModulo */
		31,         /* symbolModulo */
		32 * 1024,  /* parserBufferSize */
		127,        /* parserTableModulo */
		0,          /* staticSize */
	};
	requestStart = instructionsNow();
	txMachine* the = xsCreateMachine(&creation, "bodycam-mcu", NULL);
	xsBeginHost(the);
	{
		xsVars(1);
		xsVar(0) = xsNewHostFunction(xs_issueCommand, 1);
		xsSet(xsGlobal, xsID("issueCommand"), xsVar(0));
		xsVar(0) = xsNewHostFunction(xs_print, 1);
		xsSet(xsGlobal, xsID("print"), xsVar(0));
		xsVar(0) = xsNewHostFunction(xs_resetMeter, 2);
		xsSet(xsGlobal, xsID("resetMeter"), xsVar(0));
		xsVar(0) = xsNewHostFunction(xs_currentMeterLimit, 0);
		xsSet(xsGlobal, xsID("currentMeterLimit"), xsVar(0));
	}
	xsEndHost(the);
	/* Boot report: what an empty machine costs. */
	sendMeter(the, instructionsNow() - requestStart, "", 0);

	for (;;) {
		size_t size;
		uint8_t* message = readMessage(&size);
		requestStart = instructionsNow();
		heapPeak = heapInUse;
		switch (size ? message[0] : 0) {
		case 'e':
			evaluate(the, message + 1, size - 1);
			break;
		case '?': {
			/* Copy into the machine, then free the host buffer before running. */
			command(the, message + 1, size - 1);
			break;
		}
		case 'h':
			heapCeiling = (size_t)strtoul((char*)message + 1, NULL, 10);
			sendMeter(the, 0, "", 0);
			break;
		case 'k':
			calibrate();
			break;
		case 'q':
			mcu_free(message);
			xsDeleteMachine(the);
			deviceExit(0);
		default:
			sendNetString('!', "unknown request", 15, NULL, 0);
			break;
		}
		mcu_free(message);
	}
}
