/* STUB for ports/freertos/check only (see FreeRTOS.h). */
#ifndef STUB_TASK_H
#define STUB_TASK_H
#include "FreeRTOS.h"

#define taskSCHEDULER_NOT_STARTED ((BaseType_t)1)
#define taskENTER_CRITICAL()      vPortEnterCritical()
#define taskEXIT_CRITICAL()       vPortExitCritical()

BaseType_t xTaskCreate(TaskFunction_t fn, const char *name, configSTACK_DEPTH_TYPE depth,
                       void *arg, UBaseType_t prio, TaskHandle_t *created);
TickType_t xTaskGetTickCount(void);
TaskHandle_t xTaskGetCurrentTaskHandle(void);
BaseType_t xTaskGetSchedulerState(void);
#endif
