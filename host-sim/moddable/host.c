/*
 * The C host of the `moddable` engine: the application main() that Moddable's x-cli-lin
 * platform expects, linked by the real mcconfig with the firmware compiled, linked and
 * preloaded by the SDK's own xsc and xsl (host-sim/moddable/build.ts writes the manifest).
 *
 * It clones the preloaded machine that xsl prepared, with the board's `creation` (chunk heap,
 * slot heap, stack, keys: fixed, as on the camera), defines the guest's host functions, imports
 * the guest runtime (host-sim/xs/guest/main, which sets globalThis.handleCommand) and then
 * speaks xsnap-worker's protocol (host-sim/xs/worker.ts) on fds 3 (in) and 4 (out):
 *   `?<bytes>`  call handleCommand(ArrayBuffer); while it runs, the guest's issueCommand sends
 *               `?<bytes>` and blocks for `/<bytes>`; the request ends `.{meter}\x01<reply>`
 *               or `!<error text>`.
 *   `e<source>` evaluate a script (tests; an empty one reports the machine once the guest is loaded).
 * The meter reports the machine's own accounting: chunk bytes and slots live at the end of the
 * request (after a full collection, so garbage does not count), the most in use at once during
 * it (xsMemory.c's peaks: live data plus garbage not yet collected, an upper bound), and the
 * creation's maximums.
 * When XS runs out of its fixed heap it calls fxAbort: the host sends `!XS abort: ...` with the
 * figures and exits with XS's status, as a camera would reset.
 */

#include "xsAll.h"
#include "mc.xs.h"
#include <unistd.h>
#include <errno.h>
#include <glib.h>

static int toHost = 4, fromHost = 3;

static void writeAll(const void* data, size_t size)
{
	const uint8_t* p = data;
	while (size) {
		ssize_t n = write(toHost, p, size);
		if (n < 0) {
			if (errno == EINTR) continue;
			_exit(70);
		}
		p += n;
		size -= (size_t)n;
	}
}

static void sendNetString(char kind, const void* a, size_t aSize, const void* b, size_t bSize)
{
	char head[24];
	int n = snprintf(head, sizeof(head), "%zu:%c", 1 + aSize + bSize, kind);
	writeAll(head, (size_t)n);
	if (aSize) writeAll(a, aSize);
	if (bSize) writeAll(b, bSize);
	writeAll(",", 1);
}

static int readByte(void)
{
	uint8_t c;
	for (;;) {
		ssize_t n = read(fromHost, &c, 1);
		if (n == 1) return c;
		if (n < 0 && errno == EINTR) continue;
		return -1;
	}
}

/* One netstring from the host (malloc'd; NULL at end of input). */
static uint8_t* readMessage(size_t* size)
{
	size_t length = 0;
	int c;
	while ((c = readByte()) != ':') {
		if (c < '0' || c > '9') return NULL;
		length = length * 10 + (size_t)(c - '0');
		if (length > (1u << 30)) return NULL;
	}
	uint8_t* data = malloc(length ? length : 1);
	if (!data) _exit(71);
	size_t got = 0;
	while (got < length) {
		ssize_t n = read(fromHost, data + got, length - got);
		if (n < 0 && errno == EINTR) continue;
		if (n <= 0) {
			free(data);
			return NULL;
		}
		got += (size_t)n;
	}
	if (readByte() != ',') {
		free(data);
		return NULL;
	}
	*size = length;
	return data;
}

/* Where the live chunk bytes are: strings, arrays' element tables, ArrayBuffer data, and the rest
 * (property tables of Maps and Sets, closures' environments, bigints, ...). Walked after the
 * collection, so only live data counts. */
typedef struct { long strings, arrays, buffers, other; } HeapSplit;

static HeapSplit heapSplit(txMachine* the)
{
	HeapSplit h = { 0, 0, 0, 0 };
	for (txSlot* heap = the->firstHeap; heap; heap = heap->next) {
		for (txSlot* slot = heap + 1; slot < heap->value.reference; slot++) {
			void* data = NULL;
			long* into = NULL;
			switch (slot->kind) {
			case XS_STRING_KIND: data = slot->value.string; into = &h.strings; break;
			case XS_ARRAY_KIND: data = slot->value.array.address; into = &h.arrays; break;
			case XS_ARRAY_BUFFER_KIND: data = slot->value.arrayBuffer.address; into = &h.buffers; break;
			default: break;
			}
			if (data) *into += ((txChunk*)((txByte*)data - sizeof(txChunk)))->size;
		}
	}
	h.other = (long)the->currentChunksSize - h.strings - h.arrays - h.buffers;
	return h;
}

static void sendMeter(txMachine* the, const void* reply, size_t replySize)
{
	char json[600];
	fxCollectGarbage(the);
	HeapSplit h = heapSplit(the);
	int n = snprintf(json, sizeof(json),
		"{\"compute\":0,\"allocate\":%ld,\"currentHeapCount\":%ld,\"chunks\":%ld,\"chunksPeak\":%ld,\"chunksMax\":%ld,"
		"\"slots\":%ld,\"slotsPeak\":%ld,\"slotsMax\":%ld,"
		"\"split\":{\"strings\":%ld,\"arrays\":%ld,\"buffers\":%ld,\"other\":%ld}}\x01",
		(long)the->currentChunksSize, (long)the->currentHeapCount,
		(long)the->currentChunksSize, (long)the->peakChunksSize, (long)the->maximumChunksSize,
		(long)the->currentHeapCount, (long)the->peakHeapCount, (long)the->maximumHeapCount,
		h.strings, h.arrays, h.buffers, h.other);
	sendNetString('.', json, (size_t)n, reply, replySize);
}

/* Peaks count from the start of each request. */
static void resetPeaks(txMachine* the)
{
	the->peakChunksSize = the->currentChunksSize;
	the->peakHeapCount = the->currentHeapCount;
}

void fxAbort(txMachine* the, int status)
{
	char text[300];
	const char* why = status == XS_NOT_ENOUGH_MEMORY_EXIT ? "not enough memory"
		: status == XS_JAVASCRIPT_STACK_OVERFLOW_EXIT ? "stack overflow"
		: status == XS_NO_MORE_KEYS_EXIT ? "no more keys"
		: status == XS_NATIVE_STACK_OVERFLOW_EXIT ? "native stack overflow"
		: status == XS_DEAD_STRIP_EXIT ? "dead strip"
		: status == XS_UNHANDLED_EXCEPTION_EXIT ? "unhandled exception"
		: status == XS_UNHANDLED_REJECTION_EXIT ? "unhandled rejection"
		: "fatal error";
	if (status == XS_UNHANDLED_EXCEPTION_EXIT || status == XS_UNHANDLED_REJECTION_EXIT)
		return; /* reported to the host as the request's error */
	int n = snprintf(text, sizeof(text),
		"XS abort: %s (chunks %ld of %ld bytes, slots %ld of %ld)", why,
		(long)the->currentChunksSize, (long)the->maximumChunksSize,
		(long)the->currentHeapCount, (long)the->maximumHeapCount);
	sendNetString('!', text, (size_t)n, NULL, 0);
	_exit(status ? 100 + status : 1);
}

/* ---- host functions the guest uses ----------------------------------------------------- */

static void xs_issueCommand(xsMachine* the)
{
	if (xsToInteger(xsArgc) < 1) xsTypeError("expected ArrayBuffer");
	size_t length = xsGetArrayBufferLength(xsArg(0));
	sendNetString('?', xsToArrayBuffer(xsArg(0)), length, NULL, 0);
	size_t size = 0;
	uint8_t* reply = readMessage(&size);
	if (!reply || size == 0 || reply[0] != '/') {
		free(reply);
		xsUnknownError("unexpected reply to issueCommand");
	}
	xsResult = xsArrayBuffer(reply + 1, (xsIntegerValue)(size - 1));
	free(reply);
}

static void xs_print(xsMachine* the)
{
	xsIntegerValue c = xsToInteger(xsArgc), i;
	for (i = 0; i < c; i++) {
		xsStringValue s = xsToString(xsArg(i));
		fprintf(stderr, "%s%s", i ? " " : "", s);
	}
	fprintf(stderr, "\n");
}

/* ---- requests -------------------------------------------------------------------------- */

/* Promise jobs: x-cli-lin queues them on GLib's main context (lin_xs.c). */
static void runJobs(txMachine* the)
{
	(void)the;
	while (g_main_context_iteration(NULL, FALSE)) {}
}

/* evaluate() and command(): the bridge's requests, shared with the emulated microcontroller. */
#define REQUEST_OK(THE, REPLY, SIZE) sendMeter(THE, REPLY, SIZE)
#define REQUEST_CALL_STARTS() ((void)0)
#include "../bridge/xs-requests.h"

int main(int argc, char* argv[])
{
	static txMachine root;
	txMachine* machine = &root;
	txPreparation* preparation = xsPreparation();
	int failed = 0;
	(void)argc;
	(void)argv;

	/* As examples/js/repl in the SDK: the machine is a clone of the one xsl preloaded. */
	c_memset(machine, 0, sizeof(txMachine));
	machine->preparation = preparation;
	machine->keyArray = preparation->keys;
	machine->keyCount = (txID)preparation->keyCount + (txID)preparation->creation.initialKeyCount;
	machine->keyIndex = (txID)preparation->keyCount;
	machine->nameModulo = preparation->nameModulo;
	machine->nameTable = preparation->names;
	machine->symbolModulo = preparation->symbolModulo;
	machine->symbolTable = preparation->symbols;
	machine->stack = &preparation->stack[0];
	machine->stackBottom = &preparation->stack[0];
	machine->stackTop = &preparation->stack[preparation->stackCount];
	machine->firstHeap = &preparation->heap[0];
	machine->freeHeap = &preparation->heap[preparation->heapCount - 1];
	machine->aliasCount = (txID)preparation->aliasCount;
	machine = fxCloneMachine(&preparation->creation, machine, "bodycam-moddable", NULL);

	xsBeginHost(machine);
	{
		xsVars(1);
		xsTry {
			xsVar(0) = xsNewHostFunction(xs_issueCommand, 1);
			xsSet(xsGlobal, xsID("issueCommand"), xsVar(0));
			xsVar(0) = xsNewHostFunction(xs_print, 1);
			xsSet(xsGlobal, xsID("print"), xsVar(0));
			xsResult = xsAwaitImport(preparation->main, XS_IMPORT_NAMESPACE);
		}
		xsCatch {
			xsStringValue message = xsToString(xsException);
			sendNetString('!', message, strlen(message), NULL, 0);
			failed = 1;
		}
	}
	xsEndHost(machine);
	if (failed) return 1;

	for (;;) {
		size_t size = 0;
		uint8_t* message = readMessage(&size);
		if (!message) break;
		resetPeaks(machine);
		switch (size ? message[0] : 0) {
		case 'e':
			evaluate(machine, message + 1, size - 1);
			break;
		case '?':
			command(machine, message + 1, size - 1);
			break;
		case 'q':
			free(message);
			goto done;
		default:
			sendNetString('!', "unknown request", 15, NULL, 0);
			break;
		}
		free(message);
	}
done:
	xsDeleteMachine(machine);
	return 0;
}
