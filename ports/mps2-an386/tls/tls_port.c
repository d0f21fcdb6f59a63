/*
 * lwIP's altcp_tls memory port for the TLS firmware, with counters (tls_port.h).
 *
 * lwIP's altcp_tls_mbedtls.c calls these five functions; altcp_mbedtls_mem_init() runs
 * whenever a configuration is made and installs the mbedTLS allocator
 * (MBEDTLS_PLATFORM_MEMORY). Blocks carry their size in front, rounded to
 * MEM_ALIGNMENT; mbedTLS needs them zeroed.
 */
#include "tls_port.h"

#include <string.h>

#include "lwip/mem.h"
#include "altcp_tls_mbedtls_mem.h"
#include "mbedtls/platform.h"
#include "mbedtls/ssl.h"
#include "mps2.h"

#define HEADER LWIP_MEM_ALIGN_SIZE(sizeof(size_t))

static TlsHeap heap;
static unsigned open;      /* altcp_tls states alive: TLS connections and listeners */
static unsigned idleOpen;  /* listeners' states (tls_port_set_idle) */
static TlsPeriod period;   /* the current busy period */
static size_t idleBytes;   /* liveBytes when it began */
static int busy;

static void *counted_calloc(size_t n, size_t size)
{
    size_t len;
    unsigned char *p;
    if (size != 0 && n > (MEM_SIZE - HEADER) / size) {
        heap.failed++;
        return NULL;
    }
    len = n * size;
    p = (unsigned char *)mem_malloc((mem_size_t)(HEADER + len));
    if (p == NULL) {
        heap.failed++;
        return NULL;
    }
    memcpy(p, &len, sizeof len);
    memset(p + HEADER, 0, len);
    heap.liveBytes += len;
    heap.liveBlocks++;
    if (heap.liveBytes > heap.peakBytes) {
        heap.peakBytes = heap.liveBytes;
    }
    return p + HEADER;
}

static void counted_free(void *ptr)
{
    size_t len;
    unsigned char *p = (unsigned char *)ptr;
    if (p == NULL) {
        return;
    }
    p -= HEADER;
    memcpy(&len, p, sizeof len);
    heap.liveBytes -= len;
    heap.liveBlocks--;
    mem_free(p);
}

void altcp_mbedtls_mem_init(void)
{
    mbedtls_platform_set_calloc_free(counted_calloc, counted_free);
}

altcp_mbedtls_state_t *altcp_mbedtls_alloc(void *conf)
{
    altcp_mbedtls_state_t *s;
    if (!busy) {
        busy = 1;
        idleBytes = heap.liveBytes;
        heap.peakBytes = heap.liveBytes;
    }
    s = (altcp_mbedtls_state_t *)counted_calloc(1, sizeof *s);
    if (s != NULL) {
        s->conf = conf;
        open++;
        period.connections++;
    }
    return s;
}

void altcp_mbedtls_free(void *conf, altcp_mbedtls_state_t *state)
{
    (void)conf;
    counted_free(state);
    open--;
}

void *altcp_mbedtls_alloc_config(size_t size)
{
    return counted_calloc(1, size);
}

void altcp_mbedtls_free_config(void *item)
{
    counted_free(item);
}

void tls_port_heap(TlsHeap *out)
{
    *out = heap;
}

void tls_port_set_idle(void)
{
    idleOpen = open;
    busy = 0;
    memset(&period, 0, sizeof period);
}

size_t tls_port_busy_bytes(void)
{
    return busy ? heap.liveBytes - idleBytes : 0;
}

int tls_port_take_period(TlsPeriod *out)
{
    if (!busy || open != idleOpen) {
        return 0;
    }
    period.peakBytes = heap.peakBytes - idleBytes;
    period.keptBytes = heap.liveBytes - idleBytes;
    *out = period;
    memset(&period, 0, sizeof period);
    busy = 0;
    return 1;
}

/* ---- handshake clock ------------------------------------------------------------------- */
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define TICKS_PER_MS 25000u

static uint64_t now_ticks(void)
{
    uint32_t ms, val;
    do {
        ms = mps2_millis();
        val = SYST_CVR;
    } while (ms != mps2_millis());
    return (uint64_t)ms * TICKS_PER_MS + (TICKS_PER_MS - 1u - val);
}

int __real_mbedtls_ssl_handshake(mbedtls_ssl_context *ssl);
int __wrap_mbedtls_ssl_handshake(mbedtls_ssl_context *ssl);

/* lwIP's port calls mbedtls_ssl_handshake once per received flight; the link maps its
 * calls here (-Wl,--wrap=mbedtls_ssl_handshake in tls.mk). */
int __wrap_mbedtls_ssl_handshake(mbedtls_ssl_context *ssl)
{
    uint64_t t0 = now_ticks();
    int ret = __real_mbedtls_ssl_handshake(ssl);
    period.handshakeTicks += now_ticks() - t0;
    if (ret == 0) {
        period.handshakes++;
    }
    return ret;
}
