/* Reset and fault vectors for the Cortex-M7 of QEMU's mps2-an500: enable the FPU (the XS
 * build uses hard floats), clear .bss, run main. Faults are reported by host.c. */
#include <stdint.h>

extern int main(void);
extern void HardFault_Handler(void);
extern uint32_t __bss_start__, __bss_end__, __stack_top;

void Reset_Handler(void)
{
	volatile uint32_t* cpacr = (uint32_t*)0xE000ED88;
	*cpacr |= 0xFu << 20; /* CP10, CP11: full access */
	__asm__ volatile("dsb\n isb");
	for (uint32_t* p = &__bss_start__; p < &__bss_end__; p++) *p = 0;
	main();
	for (;;) {}
}

static void Fault_Handler(void)
{
	HardFault_Handler();
}

__attribute__((section(".vectors"), used)) const void* const vectors[16] = {
	&__stack_top,
	Reset_Handler,
	Fault_Handler, /* NMI */
	HardFault_Handler,
	Fault_Handler, /* MemManage */
	Fault_Handler, /* BusFault */
	Fault_Handler, /* UsageFault */
	0, 0, 0, 0,
	Fault_Handler, /* SVC */
	Fault_Handler, /* DebugMon */
	0,
	Fault_Handler, /* PendSV */
	Fault_Handler, /* SysTick */
};
