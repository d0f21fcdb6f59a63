/*
 * Board support and newlib system calls for QEMU mps2-an386 (Cortex-M4, bare metal):
 * CMSDK UART0 console, SysTick millisecond clock (sys_now), semihosting exit, the C heap
 * (_sbrk, bounded by the linker script's heap region), fault and panic hooks.
 *
 * With MPS2_FREERTOS (the FreeRTOS image, freertos.mk) the kernel owns SysTick (its tick
 * is the clock) and lwIP's sys_now comes from ports/freertos/sys_arch.c.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "lwip/arch.h"
#include "mps2.h"

/* ---- CMSDK APB UART0 ------------------------------------------------------------ */
#define UART0_BASE      0x40004000u
#define UART_DATA       (*(volatile uint32_t *)(UART0_BASE + 0x00))
#define UART_STATE      (*(volatile uint32_t *)(UART0_BASE + 0x04))
#define UART_CTRL       (*(volatile uint32_t *)(UART0_BASE + 0x08))
#define UART_BAUDDIV    (*(volatile uint32_t *)(UART0_BASE + 0x10))
#define UART_STATE_TXFULL 0x1u
#define UART_STATE_RXFULL 0x2u
#define UART_CTRL_TXEN  0x1u
#define UART_CTRL_RXEN  0x2u

/* ---- SysTick and SCB ------------------------------------------------------------------ */
#define SYST_CSR        (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR        (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR        (*(volatile uint32_t *)0xE000E018u)
#define SCB_CFSR        (*(volatile uint32_t *)0xE000ED28u)
#define SCB_HFSR        (*(volatile uint32_t *)0xE000ED2Cu)
#define SCB_BFAR        (*(volatile uint32_t *)0xE000ED38u)
#define CPU_HZ          25000000u

#ifdef MPS2_FREERTOS
#include "FreeRTOS.h"
#include "task.h"
#define ticks ((uint32_t)(xTaskGetTickCount() * portTICK_PERIOD_MS))
#else
static volatile uint32_t ticks;

void SysTick_Handler(void)
{
    ticks++;
}
#endif

void mps2_board_init(void)
{
    UART_BAUDDIV = CPU_HZ / 115200u;
    UART_CTRL = UART_CTRL_TXEN | UART_CTRL_RXEN;
#ifndef MPS2_FREERTOS /* the scheduler starts SysTick itself */
    SYST_RVR = CPU_HZ / 1000u - 1u; /* 24999: 1 ms */
    SYST_CVR = 0;
    SYST_CSR = 0x7; /* processor clock, interrupt, enable */
#endif
}

uint32_t mps2_millis(void)
{
    return ticks;
}

#ifndef MPS2_FREERTOS
/* lwIP's clock (NO_SYS=1). */
u32_t sys_now(void)
{
    return ticks;
}
#endif

void mps2_idle(void)
{
    __asm volatile("wfi");
}

int mps2_getc(void)
{
    if ((UART_STATE & UART_STATE_RXFULL) == 0) {
        return -1;
    }
    return (int)(UART_DATA & 0xFFu);
}

static void uart_putc(char c)
{
    uint32_t spins = 0;
    while ((UART_STATE & UART_STATE_TXFULL) != 0 && spins++ < 1000000u) {
    }
    UART_DATA = (uint8_t)c;
}

/* ---- semihosting ------------------------------------------------------------------------ */
#define SYS_GET_CMDLINE              0x15
#define SYS_EXIT_EXTENDED            0x20
#define ADP_STOPPED_APPLICATION_EXIT 0x20026

void mps2_exit(int code)
{
    uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code};
    register uint32_t r0 __asm("r0") = SYS_EXIT_EXTENDED;
    register uint32_t *r1 __asm("r1") = block;
    __asm volatile("bkpt 0xab" : : "r"(r0), "r"(r1) : "memory");
    for (;;) {
        __asm volatile("wfi");
    }
}

int mps2_cmdline(char *buf, uint32_t len)
{
    uint32_t block[2] = {(uint32_t)buf, len};
    register uint32_t r0 __asm("r0") = SYS_GET_CMDLINE;
    register uint32_t *r1 __asm("r1") = block;
    __asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0 == 0 ? (int)block[1] : -1;
}

/* ---- randomness (LWIP_RAND) ------------------------------------------------------------------ */
uint32_t mps2_rand(void)
{
    static uint32_t state;
    if (state == 0) {
        state = 0x9E3779B9u ^ SYST_CVR ^ (ticks << 16);
    }
    state ^= state << 13; /* xorshift32: not for products (see lwipopts.h) */
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

/* ---- fatal paths ---------------------------------------------------------------------------- */
void mps2_fatal(const char *what, const char *file, int line)
{
    printf("\nFATAL: %s at %s:%d\n", what, file, line);
    mps2_exit(3);
}

/* lwip-ws's panic hook (feature `firmware`): the library hit a bug. */
void lwipws_port_panic(void)
{
    printf("\nFATAL: lwip-ws panicked\n");
    mps2_exit(4);
}

void mps2_unexpected_irq(uint32_t ipsr)
{
    printf("\nFATAL: exception %lu (CFSR 0x%08lx HFSR 0x%08lx BFAR 0x%08lx)\n",
           (unsigned long)ipsr, (unsigned long)SCB_CFSR, (unsigned long)SCB_HFSR,
           (unsigned long)SCB_BFAR);
    mps2_exit(5);
}

/* ---- newlib system calls -------------------------------------------------------------------- */
extern char __heap_start[], __heap_end[];

void *_sbrk(ptrdiff_t incr)
{
    static char *brk = __heap_start;
    char *prev = brk;
    if (incr < 0 ? (size_t)-incr > (size_t)(brk - __heap_start)
                 : (size_t)incr > (size_t)(__heap_end - brk)) {
        errno = ENOMEM;
        return (void *)-1;
    }
    brk += incr;
    return prev;
}

int _write(int fd, const char *buf, int len)
{
    int i;
    if (fd != 1 && fd != 2) {
        errno = EBADF;
        return -1;
    }
    for (i = 0; i < len; i++) {
        if (buf[i] == '\n') {
            uart_putc('\r');
        }
        uart_putc(buf[i]);
    }
    return len;
}

int _read(int fd, char *buf, int len)
{
    (void)fd;
    (void)buf;
    (void)len;
    return 0;
}

int _close(int fd)
{
    (void)fd;
    return -1;
}

int _fstat(int fd, struct stat *st)
{
    (void)fd;
    st->st_mode = S_IFCHR;
    return 0;
}

int _isatty(int fd)
{
    return fd >= 0 && fd <= 2;
}

int _lseek(int fd, int off, int whence)
{
    (void)fd;
    (void)off;
    (void)whence;
    return 0;
}

int _getpid(void)
{
    return 1;
}

/* Only reached for signals left at SIG_DFL: end the run like a host process would. */
int _kill(int pid, int sig)
{
    (void)pid;
    mps2_exit(128 + sig);
}

void _exit(int code)
{
    mps2_exit(code);
}

/* time() and gettimeofday(): seconds since reset. */
int _gettimeofday(struct timeval *tv, void *tz)
{
    uint32_t ms = ticks;
    (void)tz;
    if (tv != NULL) {
        tv->tv_sec = (time_t)(ms / 1000u);
        tv->tv_usec = (suseconds_t)((ms % 1000u) * 1000u);
    }
    return 0;
}

/* Built with -nostartfiles: __libc_init_array still calls these. */
void _init(void)
{
}

void _fini(void)
{
}
