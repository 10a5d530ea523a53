/*
 * XS platform header for the bare-metal Cortex-M7 host (QEMU mps2-an500): no threads, sockets,
 * atomics or files. Memory goes through the host's accounting allocator (mcu_malloc...), which
 * enforces the heap ceiling; time is derived from the instruction counter so runs are
 * deterministic. Selected with -DINCLUDE_XSPLATFORM -DXSPLATFORM=\"mcu_xs.h\".
 */
#ifndef __MCU_XS__
#define __MCU_XS__

#undef mxLittleEndian
#define mxLittleEndian 1
#define mxExport extern
#define mxImport extern
#define XS_FUNCTION_NORETURN __attribute__((noreturn))

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/time.h>

extern void* mcu_malloc(size_t size);
extern void* mcu_calloc(size_t count, size_t size);
extern void* mcu_realloc(void* p, size_t size);
extern void mcu_free(void* p);
#define c_malloc mcu_malloc
#define c_calloc mcu_calloc
#define c_realloc mcu_realloc
#define c_free mcu_free
#define c_malloc_uint32 mcu_malloc
#define c_free_uint32 mcu_free

typedef struct timeval c_timeval;
struct c_timezone { int tz_minuteswest; int tz_dsttime; };
extern int mcu_gettimeofday(c_timeval* tp, struct c_timezone* tzp);
#define c_gettimeofday mcu_gettimeofday

#define mxMachinePlatform \
	int promiseJobs; \
	int abortStatus;

#define mxUseDefaultMachinePlatform 1
#define mxUseDefaultBuildKeys 1
#define mxUseDefaultChunkAllocation 1
#define mxUseDefaultSlotAllocation 1
#define mxUseDefaultParseScript 1
#define mxUseDefaultSharedChunks 1

/* LDRD/VLDR of a misaligned double faults on a Cortex-M: DataView reads through memcpy. */
#define mxMisalignedSettersCrash 1
/* With that switch, xsDataView.c's getters read through c_read32 — including the BigInt64 and
 * BigUint64 getters, which then lose their upper 32 bits (an XS bug: getBigUint64 of 1e12 gives
 * 0xe800000000). All four callers assign to a local named `value`, so read as many bytes as it
 * holds (little-endian); a rename upstream fails to compile rather than misbehave. */
static inline uint64_t mcu_read_unaligned(const void* p, size_t size)
{
	uint64_t v = 0;
	memcpy(&v, p, size);
	return v;
}
#define c_read32(POINTER) mcu_read_unaligned((POINTER), sizeof(value))

/* Like xsnap, so strings behave as in the xs engine. */
#define mxCESU8 1

#endif /* __MCU_XS__ */
