/*
 * FreeRTOS firmware for QEMU mps2-an386: the FreeRTOS kernel (portable/GCC/ARM_CM4F),
 * lwIP's tcpip thread (NO_SYS 0, LWIP_TCPIP_CORE_LOCKING 1, ports/freertos), the LAN9118
 * driver as a netif fed from its own task, woken by the chip's receive interrupt, and
 * examples/sensor-push.
 *
 *   net task (this file)  sleeps until the LAN9118 interrupts (a frame arrived), then
 *                         drains its FIFO under the core lock and posts the frames to the
 *                         tcpip thread (tcpip_input); every 10 ms it also reads the
 *                         console: 's' prints the figures, 'q' prints them and ends the
 *                         run (exit 0)
 *   tcpip thread          lwIP and every lwip-ws callback
 *   sensor, command       examples/sensor-push
 *
 * Also the hooks FreeRTOS and ports/freertos need (asserts, stack overflow, failed
 * allocations, the idle sleep, random numbers) and newlib's malloc lock: the library
 * allocates with malloc from several tasks.
 */
#include <stdio.h>
#include <string.h>

#include "FreeRTOS.h"
#include "semphr.h"
#include "task.h"

#include "lan9118.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/tcpip.h"
#include "mps2.h"
#include "sensor_push.h"

#define NET_STACK  512 /* words */
#define NET_PRIO   (configMAX_PRIORITIES - 1) /* above the tcpip thread: frames first */
#define NIC_IRQ    13u /* the LAN9118 on mps2-an386 (startup.s: Ethernet_Handler) */
#define NVIC_ISER0 (*(volatile uint32_t *)0xE000E100u)
#define NVIC_IPR   ((volatile uint8_t *)0xE000E400u)
#define IP         "10.0.3.15"
#define NETMASK    "255.255.255.0"
#define GATEWAY    "10.0.3.2"

/* board.c */
uint32_t mps2_rand(void);
void mps2_fatal(const char *what, const char *file, int line) __attribute__((noreturn));

static struct netif nic;
static TaskHandle_t netTaskHandle;
static volatile uint32_t nicInterrupts;

/* IRQ 13: a frame arrived. Masks the chip's interrupt (a level) and wakes the net task,
 * which drains the FIFO and unmasks it again. */
void Ethernet_Handler(void)
{
    BaseType_t woken = pdFALSE;
    lan9118_irq_mask();
    nicInterrupts++;
    vTaskNotifyGiveFromISR(netTaskHandle, &woken);
    portYIELD_FROM_ISR(woken);
}

static void printFigures(void)
{
    static char line[512];
    sensorPush_figures(line, sizeof line);
    printf("figures: %s nic_interrupts=%lu\n", line, (unsigned long)nicInterrupts);
}

static void tcpipReady(void *arg)
{
    xSemaphoreGive((SemaphoreHandle_t)arg);
}

static int netUp(void)
{
    ip4_addr_t ip, mask, gw;
    static const u8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    struct netif *ok;
    SemaphoreHandle_t ready = xSemaphoreCreateBinary();
    if (ready == NULL) {
        return -1;
    }
    tcpip_init(tcpipReady, ready);
    xSemaphoreTake(ready, portMAX_DELAY);
    vSemaphoreDelete(ready);
    ip4addr_aton(IP, &ip);
    ip4addr_aton(NETMASK, &mask);
    ip4addr_aton(GATEWAY, &gw);
    memcpy(nic.hwaddr, mac, sizeof mac);
    LOCK_TCPIP_CORE();
    ok = netif_add(&nic, &ip, &mask, &gw, NULL, lan9118_init, tcpip_input);
    if (ok != NULL) {
        netif_set_default(&nic);
        netif_set_up(&nic); /* gratuitous ARP: slirp learns our MAC */
    }
    UNLOCK_TCPIP_CORE();
    return ok != NULL ? 0 : -1;
}

/* Brings the network and the example up, then stays as the NIC's receive task. */
static void netTask(void *arg)
{
    (void)arg;
    if (netUp() < 0) {
        printf("FATAL: LAN9118 not found or not responding\n");
        mps2_exit(1);
    }
    printf("freertos: tcpip thread running, lan9118 up at %s\n", IP);
    /* The NIC's interrupt may call FreeRTOS (FromISR): priority no more urgent than
     * configMAX_SYSCALL_INTERRUPT_PRIORITY. */
    lan9118_irq_setup();
    NVIC_IPR[NIC_IRQ] = configMAX_SYSCALL_INTERRUPT_PRIORITY;
    NVIC_ISER0 = 1u << NIC_IRQ;
    if (sensorPush_start(80) < 0) {
        mps2_exit(1);
    }
    printf("ready http://%s:80/ (sensor-push, FreeRTOS %s)\n", IP, tskKERNEL_VERSION_NUMBER);
    for (;;) {
        int frames, c;
        /* The driver touches the chip's FIFOs; lwIP transmits from the tcpip thread with
         * the core lock held: the lock keeps the two apart. */
        LOCK_TCPIP_CORE();
        frames = lan9118_poll(&nic);
        UNLOCK_TCPIP_CORE();
        if (frames < 0) {
            printf("FATAL: LAN9118 error\n");
            mps2_exit(1);
        }
        c = mps2_getc();
        if (c == 's') {
            printFigures();
        } else if (c == 'q') {
            printFigures();
            printf("freertos: stopped\n");
            mps2_exit(0);
        }
        if (frames == 0 && lan9118_irq_rearm() == 0) {
            /* Until the NIC interrupts, or 10 ms for the console. */
            (void)ulTaskNotifyTake(pdTRUE, pdMS_TO_TICKS(10));
        }
    }
}

int mps2_main(void)
{
    printf("mps2-an386: FreeRTOS %s + lwIP tcpip thread + lwip-ws\n", tskKERNEL_VERSION_NUMBER);
    if (xTaskCreate(netTask, "net", NET_STACK, NULL, NET_PRIO, &netTaskHandle) != pdPASS) {
        return 1;
    }
    vTaskStartScheduler();
    return 1; /* not reached: no heap for the idle task */
}

/* ---- hooks ------------------------------------------------------------------------------ */
uint32_t sys_port_random(void)
{
    return mps2_rand();
}

void sys_port_assert(const char *msg, const char *file, int line)
{
    mps2_fatal(msg, file, line);
}

void vAssertCalled(const char *file, unsigned long line)
{
    mps2_fatal("FreeRTOS assertion", file, (int)line);
}

void vApplicationStackOverflowHook(TaskHandle_t task, char *name)
{
    (void)task;
    mps2_fatal("stack overflow in task", name, 0);
}

void vApplicationMallocFailedHook(void)
{
    mps2_fatal("FreeRTOS heap exhausted", __FILE__, __LINE__);
}

void vApplicationIdleHook(void)
{
    mps2_idle(); /* wfi: until the next tick or interrupt */
}

/* newlib's malloc (the library's allocator with feature `firmware`) is called from
 * several tasks: no task switch inside it. */
struct _reent;
void __malloc_lock(struct _reent *r)
{
    (void)r;
    if (xTaskGetSchedulerState() != taskSCHEDULER_NOT_STARTED) {
        vTaskSuspendAll();
    }
}

void __malloc_unlock(struct _reent *r)
{
    (void)r;
    if (xTaskGetSchedulerState() != taskSCHEDULER_NOT_STARTED) {
        (void)xTaskResumeAll();
    }
}
