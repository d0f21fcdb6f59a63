/*
 * FreeRTOS configuration of the mps2-an386 FreeRTOS image: the Cortex-M4F template
 * (ports/freertos/cm4/FreeRTOSConfig.h) plus what this board needs.
 */
#ifndef LWIP_WS_MPS2_FREERTOS_CONFIG_H
#define LWIP_WS_MPS2_FREERTOS_CONFIG_H

#include "../../freertos/cm4/FreeRTOSConfig.h"

/* The kernel's handlers under the vector names of startup.s. */
#define vPortSVCHandler     SVC_Handler
#define xPortPendSVHandler  PendSV_Handler
#define xPortSysTickHandler SysTick_Handler

/* Sleep (wfi) in the idle task: QEMU then leaves the host CPU alone. */
#undef configUSE_IDLE_HOOK
#define configUSE_IDLE_HOOK       1
/* uxTaskGetSystemState: stack high-water marks of every task, for the figures. */
#undef configUSE_TRACE_FACILITY
#define configUSE_TRACE_FACILITY  1

#endif /* LWIP_WS_MPS2_FREERTOS_CONFIG_H */
