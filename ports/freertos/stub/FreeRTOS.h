/*
 * STUB for ports/freertos/check only: the few FreeRTOS types and calls that
 * ports/freertos uses, declared with FreeRTOS's signatures so lwIP and sys_arch.c
 * compile. Not FreeRTOS: nothing here links or runs. Use the real kernel headers.
 */
#ifndef STUB_FREERTOS_H
#define STUB_FREERTOS_H

#include <stddef.h>
#include <stdint.h>

typedef long BaseType_t;
typedef unsigned long UBaseType_t;
typedef uint32_t TickType_t;
typedef void (*TaskFunction_t)(void *);
typedef struct tskTaskControlBlock *TaskHandle_t;
typedef struct QueueDefinition *QueueHandle_t;
typedef QueueHandle_t SemaphoreHandle_t;

#define configMAX_PRIORITIES      8
#define configSTACK_DEPTH_TYPE    uint16_t
#define configTICK_RATE_HZ        1000
#define portMAX_DELAY             ((TickType_t)0xffffffffUL)
#define portTICK_PERIOD_MS        ((TickType_t)1000 / configTICK_RATE_HZ)
#define pdMS_TO_TICKS(ms)         ((TickType_t)(((TickType_t)(ms) * configTICK_RATE_HZ) / 1000U))
#define pdFALSE                   ((BaseType_t)0)
#define pdTRUE                    ((BaseType_t)1)
#define pdPASS                    pdTRUE

void vPortEnterCritical(void);
void vPortExitCritical(void);
void vPortYieldFromISR(BaseType_t woken);
#define portYIELD_FROM_ISR(x)     vPortYieldFromISR(x)

#endif
