/*
 * lwIP's OS abstraction on FreeRTOS (NO_SYS=0), with either value of
 * LWIP_TCPIP_CORE_LOCKING. Run on the FreeRTOS POSIX simulator by scripts/test-freertos;
 * compiled for Cortex-M4 by ports/freertos/check.
 *
 * Needs configSUPPORT_DYNAMIC_ALLOCATION, configUSE_MUTEXES, configUSE_RECURSIVE_MUTEXES,
 * INCLUDE_xTaskGetCurrentTaskHandle.
 */
#include "lwip/opt.h"
#include "lwip/sys.h"
#include "lwip/tcpip.h"
#include "lwip/err.h"

static TaskHandle_t tcpip_thread;
static TaskHandle_t core_owner;
static UBaseType_t core_depth; /* the lock is recursive */
static SemaphoreHandle_t core_lock;

void sys_init(void)
{
    core_lock = xSemaphoreCreateRecursiveMutex();
    LWIP_ASSERT("core lock", core_lock != NULL);
}

u32_t sys_now(void)
{
    return (u32_t)(xTaskGetTickCount() * portTICK_PERIOD_MS);
}

sys_prot_t sys_arch_protect(void)
{
    taskENTER_CRITICAL();
    return 1;
}

void sys_arch_unprotect(sys_prot_t pval)
{
    (void)pval;
    taskEXIT_CRITICAL();
}

/* ---- core locking ----------------------------------------------------------------- */
/* Stress builds (-DSYS_ARCH_YIELD_AT_LOCK): a task switch is offered at every lock and
 * unlock, so tasks of equal priority interleave at every entry into lwIP. */
#ifdef SYS_ARCH_YIELD_AT_LOCK
#define STRESS_YIELD() do { if (xTaskGetSchedulerState() == taskSCHEDULER_RUNNING) { taskYIELD(); } } while (0)
#else
#define STRESS_YIELD() do { } while (0)
#endif

void sys_lock_tcpip_core(void)
{
    STRESS_YIELD();
    xSemaphoreTakeRecursive(core_lock, portMAX_DELAY);
    core_owner = xTaskGetCurrentTaskHandle();
    core_depth++;
}

void sys_unlock_tcpip_core(void)
{
    if (--core_depth == 0) {
        core_owner = NULL;
    }
    xSemaphoreGiveRecursive(core_lock);
    STRESS_YIELD();
}

void sys_mark_tcpip_thread(void)
{
    tcpip_thread = xTaskGetCurrentTaskHandle();
}

int sys_in_tcpip_thread(void)
{
    return tcpip_thread != NULL && xTaskGetCurrentTaskHandle() == tcpip_thread;
}

void sys_check_core_locking(void)
{
    /* Before the scheduler runs (lwip_init from main) nothing is checked. */
    if (xTaskGetSchedulerState() != taskSCHEDULER_NOT_STARTED && tcpip_thread != NULL) {
        TaskHandle_t me = xTaskGetCurrentTaskHandle();
#if LWIP_TCPIP_CORE_LOCKING
        LWIP_ASSERT("lwIP/lwip-ws called without the core lock", me == core_owner);
#else
        LWIP_ASSERT("lwIP/lwip-ws called outside the tcpip thread", me == tcpip_thread);
#endif
    }
}

/* ---- semaphores and mutexes ---------------------------------------------------------- */
err_t sys_sem_new(sys_sem_t *sem, u8_t count)
{
    sem->sem = xSemaphoreCreateBinary();
    if (sem->sem == NULL) {
        return ERR_MEM;
    }
    if (count != 0) {
        xSemaphoreGive(sem->sem);
    }
    return ERR_OK;
}

void sys_sem_signal(sys_sem_t *sem)
{
    xSemaphoreGive(sem->sem);
}

u32_t sys_arch_sem_wait(sys_sem_t *sem, u32_t timeout_ms)
{
    TickType_t start = xTaskGetTickCount();
    TickType_t wait = timeout_ms == 0 ? portMAX_DELAY : pdMS_TO_TICKS(timeout_ms);
    if (xSemaphoreTake(sem->sem, wait) != pdTRUE) {
        return SYS_ARCH_TIMEOUT;
    }
    return (u32_t)((xTaskGetTickCount() - start) * portTICK_PERIOD_MS);
}

void sys_sem_free(sys_sem_t *sem)
{
    vSemaphoreDelete(sem->sem);
    sem->sem = NULL;
}

err_t sys_mutex_new(sys_mutex_t *mutex)
{
    mutex->mut = xSemaphoreCreateRecursiveMutex();
    return mutex->mut != NULL ? ERR_OK : ERR_MEM;
}

void sys_mutex_lock(sys_mutex_t *mutex)
{
    xSemaphoreTakeRecursive(mutex->mut, portMAX_DELAY);
}

void sys_mutex_unlock(sys_mutex_t *mutex)
{
    xSemaphoreGiveRecursive(mutex->mut);
}

void sys_mutex_free(sys_mutex_t *mutex)
{
    vSemaphoreDelete(mutex->mut);
    mutex->mut = NULL;
}

/* ---- mailboxes ------------------------------------------------------------------------ */
err_t sys_mbox_new(sys_mbox_t *mbox, int size)
{
    mbox->mbx = xQueueCreate((UBaseType_t)size, sizeof(void *));
    return mbox->mbx != NULL ? ERR_OK : ERR_MEM;
}

void sys_mbox_post(sys_mbox_t *mbox, void *msg)
{
    xQueueSendToBack(mbox->mbx, &msg, portMAX_DELAY);
}

err_t sys_mbox_trypost(sys_mbox_t *mbox, void *msg)
{
    return xQueueSendToBack(mbox->mbx, &msg, 0) == pdTRUE ? ERR_OK : ERR_MEM;
}

err_t sys_mbox_trypost_fromisr(sys_mbox_t *mbox, void *msg)
{
    BaseType_t woken = pdFALSE;
    BaseType_t ok = xQueueSendToBackFromISR(mbox->mbx, &msg, &woken);
    portYIELD_FROM_ISR(woken);
    return ok == pdTRUE ? ERR_OK : ERR_MEM;
}

u32_t sys_arch_mbox_fetch(sys_mbox_t *mbox, void **msg, u32_t timeout_ms)
{
    void *dummy;
    TickType_t start = xTaskGetTickCount();
    TickType_t wait = timeout_ms == 0 ? portMAX_DELAY : pdMS_TO_TICKS(timeout_ms);
    if (xQueueReceive(mbox->mbx, msg != NULL ? msg : &dummy, wait) != pdTRUE) {
        if (msg != NULL) {
            *msg = NULL;
        }
        return SYS_ARCH_TIMEOUT;
    }
    return (u32_t)((xTaskGetTickCount() - start) * portTICK_PERIOD_MS);
}

u32_t sys_arch_mbox_tryfetch(sys_mbox_t *mbox, void **msg)
{
    void *dummy;
    if (xQueueReceive(mbox->mbx, msg != NULL ? msg : &dummy, 0) != pdTRUE) {
        return SYS_MBOX_EMPTY;
    }
    return 0;
}

void sys_mbox_free(sys_mbox_t *mbox)
{
    vQueueDelete(mbox->mbx);
    mbox->mbx = NULL;
}

/* ---- threads --------------------------------------------------------------------------- */
sys_thread_t sys_thread_new(const char *name, lwip_thread_fn fn, void *arg, int stacksize,
                            int prio)
{
    TaskHandle_t task = NULL;
    BaseType_t ok = xTaskCreate(fn, name, (configSTACK_DEPTH_TYPE)stacksize, arg,
                                (UBaseType_t)prio, &task);
    LWIP_ASSERT("sys_thread_new", ok == pdPASS);
    return task;
}
