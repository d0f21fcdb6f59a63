/*
 * lwIP's OS abstraction on FreeRTOS: types (outline; the functions are in sys_arch.c).
 *
 * Semaphores and mutexes are FreeRTOS semaphores, mailboxes are queues of pointers,
 * threads are tasks. SYS_ARCH_PROTECT is a FreeRTOS critical section.
 */
#ifndef LWIP_WS_FREERTOS_SYS_ARCH_H
#define LWIP_WS_FREERTOS_SYS_ARCH_H

#include "FreeRTOS.h"
#include "semphr.h"
#include "queue.h"
#include "task.h"

typedef struct { SemaphoreHandle_t sem; } sys_sem_t;
typedef struct { SemaphoreHandle_t mut; } sys_mutex_t;
typedef struct { QueueHandle_t mbx; } sys_mbox_t;
typedef TaskHandle_t sys_thread_t;
typedef UBaseType_t sys_prot_t;

#define sys_sem_valid(s)            ((s) != NULL && (s)->sem != NULL)
#define sys_sem_set_invalid(s)      do { if ((s) != NULL) { (s)->sem = NULL; } } while (0)
#define sys_mutex_valid(m)          ((m) != NULL && (m)->mut != NULL)
#define sys_mutex_set_invalid(m)    do { if ((m) != NULL) { (m)->mut = NULL; } } while (0)
#define sys_mbox_valid(b)           ((b) != NULL && (b)->mbx != NULL)
#define sys_mbox_set_invalid(b)     do { if ((b) != NULL) { (b)->mbx = NULL; } } while (0)

/* Core locking with owner tracking (lwipopts.h maps LOCK_TCPIP_CORE & co. here). */
void sys_lock_tcpip_core(void);
void sys_unlock_tcpip_core(void);
void sys_mark_tcpip_thread(void);
void sys_check_core_locking(void);

#endif /* LWIP_WS_FREERTOS_SYS_ARCH_H */
