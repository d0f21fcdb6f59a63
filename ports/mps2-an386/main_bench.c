/*
 * Instructions per echoed message, measured inside the firmware (bench.elf).
 *
 * Run under QEMU with `-icount shift=0`: every executed instruction then advances the
 * virtual clock by exactly 1 ns, and the CMSDK APB timer 1 (25 MHz of that clock: one
 * tick = 40 instructions) counts instructions deterministically, without any host timing.
 *
 * One lwIP stack, one netif whose output is a loopback "wire": every IP packet lwIP sends
 * is copied (pbuf_clone) into a PBUF_POOL pbuf, as a NIC driver receives (lan9118.c), kept
 * in a ring and fed back to ip_input. A client pcb in the image talks to two servers on 10.0.0.1:
 *   port 80: lwip-ws (websocket_accept, echoing every message with WSS_write);
 *   port 81: a raw lwIP TCP echo (tcp_write of what arrives).
 * The client sends one pre-built message (a masked WebSocket frame, or the same payload
 * for raw TCP) and waits until the whole echo has come back; that is one round. The
 * first warm-up round of each kind and size checks the echo byte for byte. The
 * figures cover both ends and lwIP both ways; the wire's copy is measured and subtracted.
 *
 * A second pass samples the program counter every ~280 instructions (timer 0 interrupt)
 * and prints a histogram that scripts/bench-mcu maps to symbols: where the instructions go.
 *
 * Output lines (parsed by scripts/bench-mcu):
 *   calib LOOP_INSNS MEASURED          a loop of known length, measured by the timer
 *   round KIND SIZE ROUNDS INSNS_PER_ROUND WIRE_PER_ROUND STALLS
 *   profile KIND SIZE ROUNDS SAMPLES PERIOD
 *   pc ADDR COUNT                      (after a "profile" line, one per sampled address)
 *   done
 */
#include <stdio.h>
#include <string.h>

#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "lwip_ws.h"
#include "mps2.h"

/* ---- CMSDK APB timers: 1 free-running (the clock), 0 the sampling interrupt ---------- */
#define TIMER0_BASE 0x40000000u
#define TIMER1_BASE 0x40001000u
#define TIMER_CTRL(b) (*(volatile uint32_t *)((b) + 0x0))
#define TIMER_VALUE(b) (*(volatile uint32_t *)((b) + 0x4))
#define TIMER_RELOAD(b) (*(volatile uint32_t *)((b) + 0x8))
#define TIMER_INTCLEAR(b) (*(volatile uint32_t *)((b) + 0xC))
#define NVIC_ISER0 (*(volatile uint32_t *)0xE000E100u)
#define NVIC_ICER0 (*(volatile uint32_t *)0xE000E180u)
#define TIMER0_IRQ 8u
#define INSNS_PER_TICK 40u /* 25 MHz on a 1 GHz virtual clock */
#define SAMPLE_TICKS 7u    /* one sample every 280 instructions */

static uint32_t clock_ticks(void)
{
    return 0xFFFFFFFFu - TIMER_VALUE(TIMER1_BASE); /* counts down from the reload */
}

/* ---- program-counter sampling -------------------------------------------------------- */
#define PROFILE_SPAN (256u * 1024u) /* code addresses 0 .. 256 KiB, 4-byte buckets */
static uint32_t histogram[PROFILE_SPAN / 4];
static uint32_t samples;

void bench_sample(const uint32_t *frame)
{
    uint32_t pc = frame[6]; /* the stacked return address: where the interrupt hit */
    TIMER_INTCLEAR(TIMER0_BASE) = 1;
    if (pc < PROFILE_SPAN) {
        histogram[pc / 4]++;
    }
    samples++;
}

/* Replaces startup.s's weak default for device interrupts: timer 0 samples, the rest
 * stays fatal. Every stack in this image is the main stack. */
__attribute__((naked)) void Default_Handler(void)
{
    __asm volatile("mrs r0, ipsr\n"
                   "cmp r0, #24\n" /* 16 + TIMER0_IRQ */
                   "bne 1f\n"
                   "mrs r0, msp\n"
                   "b bench_sample\n"
                   "1: b mps2_unexpected_irq\n");
}

static void profile_start(void)
{
    memset(histogram, 0, sizeof histogram);
    samples = 0;
    TIMER_RELOAD(TIMER0_BASE) = SAMPLE_TICKS - 1u;
    TIMER_VALUE(TIMER0_BASE) = SAMPLE_TICKS - 1u;
    TIMER_INTCLEAR(TIMER0_BASE) = 1;
    NVIC_ISER0 = 1u << TIMER0_IRQ;
    TIMER_CTRL(TIMER0_BASE) = 0x9; /* enable, interrupt */
}

static void profile_stop(const char *kind, int size, int rounds)
{
    uint32_t i;
    TIMER_CTRL(TIMER0_BASE) = 0;
    NVIC_ICER0 = 1u << TIMER0_IRQ;
    printf("profile %s %d %d %lu %u\n", kind, size, rounds, (unsigned long)samples,
           (unsigned)(SAMPLE_TICKS * INSNS_PER_TICK));
    for (i = 0; i < PROFILE_SPAN / 4; i++) {
        if (histogram[i] != 0) {
            printf("pc %lx %lu\n", (unsigned long)(i * 4u), (unsigned long)histogram[i]);
        }
    }
}

/* ---- the loopback wire ------------------------------------------------------------------ */
#define RING 128
static struct pbuf *ring[RING];
static unsigned ring_head, ring_tail;
static uint32_t wire_ticks;
static struct netif wire;

static err_t wire_output(struct netif *netif, struct pbuf *p, const ip4_addr_t *dst)
{
    uint32_t t0 = clock_ticks();
    struct pbuf *q;
    (void)netif;
    (void)dst;
    if (ring_head - ring_tail == RING || (q = pbuf_clone(PBUF_RAW, PBUF_POOL, p)) == NULL) {
        wire_ticks += clock_ticks() - t0;
        return ERR_MEM; /* dropped, as a full NIC queue would */
    }
    ring[ring_head++ % RING] = q;
    wire_ticks += clock_ticks() - t0;
    return ERR_OK;
}

static err_t wire_init(struct netif *netif)
{
    netif->output = wire_output;
    netif->mtu = 1500;
    netif->flags = NETIF_FLAG_UP | NETIF_FLAG_LINK_UP;
    netif->name[0] = 'l';
    netif->name[1] = 'b';
    return ERR_OK;
}

/* Delivers what is on the wire; returns how many packets. */
static int wire_pump(void)
{
    int n = 0;
    while (ring_tail != ring_head) {
        struct pbuf *p = ring[ring_tail++ % RING];
        if (wire.input(p, &wire) != ERR_OK) {
            pbuf_free(p);
        }
        n++;
    }
    return n;
}

/* ---- the client ------------------------------------------------------------------------ */
#define MAX_MSG (16 * 1024)
static uint8_t frame[MAX_MSG + 14];
static uint32_t frame_len;   /* bytes of one message on the wire, client to server */
static uint32_t expect_len;  /* bytes of its echo, server to client */
static uint32_t sent, received;
static char response[256];
static uint32_t response_len;
static int handshaking;
static int verifying;            /* the first warm-up round keeps the echo to check it */
static uint8_t echo[MAX_MSG + 4];

static err_t client_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)arg;
    (void)err;
    if (p == NULL) {
        return ERR_OK;
    }
    if (verifying && received < sizeof echo) {
        pbuf_copy_partial(p, echo + received, (u16_t)(sizeof echo - received), 0);
    }
    if (handshaking) {
        uint16_t room = (uint16_t)(sizeof response - 1 - response_len);
        response_len += pbuf_copy_partial(p, response + response_len, room, 0);
        response[response_len] = 0;
    }
    received += p->tot_len;
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static void client_send(struct tcp_pcb *pcb, const uint8_t *data, uint32_t len)
{
    while (sent < len) {
        uint32_t n = len - sent;
        if (n > tcp_sndbuf(pcb)) {
            n = tcp_sndbuf(pcb);
        }
        if (n == 0 || tcp_write(pcb, data + sent, (u16_t)n, 0) != ERR_OK) {
            break; /* constant data: referenced, not copied */
        }
        sent += n;
    }
    tcp_output(pcb);
}

static int connected;
static err_t client_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    (void)pcb;
    connected = err == ERR_OK;
    return ERR_OK;
}

static uint32_t stalls;

/* Sends `len` bytes of `data`, pumps until `want` bytes came back. */
static int exchange(struct tcp_pcb *pcb, const uint8_t *data, uint32_t len, uint32_t want)
{
    uint32_t spins = 0;
    sent = 0;
    received = 0;
    client_send(pcb, data, len);
    while (received < want || sent < len) {
        if (wire_pump() == 0) {
            /* Nothing in flight: only a timer (delayed ACK, retransmission) moves on. */
            stalls++;
            sys_check_timeouts();
            if (++spins > 20000000u) {
                printf("bench: stuck (sent %lu of %lu, received %lu of %lu)\n",
                       (unsigned long)sent, (unsigned long)len, (unsigned long)received,
                       (unsigned long)want);
                return -1;
            }
        }
        client_send(pcb, data, len);
    }
    return 0;
}

static struct tcp_pcb *client_open(uint16_t port)
{
    ip4_addr_t server;
    struct tcp_pcb *pcb = tcp_new();
    uint32_t spins = 0;
    IP4_ADDR(&server, 10, 0, 0, 1);
    connected = 0;
    if (pcb == NULL) {
        return NULL;
    }
    tcp_nagle_disable(pcb);
    tcp_recv(pcb, client_recv);
    if (tcp_connect(pcb, &server, port, client_connected) != ERR_OK) {
        return NULL;
    }
    while (!connected && spins++ < 1000) {
        wire_pump();
    }
    return connected ? pcb : NULL;
}

/* ---- the servers --------------------------------------------------------------------------- */
static WSSCB ws_cb;
static WSS ws_slot;

static void ws_frame(WSSCB *o, WSS *wss, void *data, int len, int isTxt)
{
    (void)o;
    if (WSS_write(wss, data, len, isTxt) != LWIP_WS_OK) {
        printf("bench: WSS_write failed\n");
    }
}

static void ws_close(WSSCB *o, WSS *wss, int status)
{
    (void)o;
    (void)wss;
    (void)status;
}

static err_t ws_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK || websocket_accept(pcb, &ws_slot) != LWIP_WS_OK) {
        tcp_abort(pcb);
        return ERR_ABRT;
    }
    return ERR_OK;
}

static err_t raw_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct pbuf *q;
    (void)arg;
    (void)err;
    if (p == NULL) {
        tcp_close(pcb);
        return ERR_OK;
    }
    if (tcp_sndbuf(pcb) < p->tot_len || tcp_sndqueuelen(pcb) + 4 > TCP_SND_QUEUELEN) {
        return ERR_MEM; /* lwIP keeps it and offers it again */
    }
    for (q = p; q != NULL; q = q->next) {
        tcp_write(pcb, q->payload, q->len, TCP_WRITE_FLAG_COPY);
    }
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK; /* lwIP calls tcp_output after this callback */
}

static err_t raw_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK) {
        return ERR_VAL;
    }
    tcp_nagle_disable(pcb);
    tcp_recv(pcb, raw_recv);
    return ERR_OK;
}

static int listen_on(uint16_t port, tcp_accept_fn accept)
{
    struct tcp_pcb *pcb = tcp_new();
    if (pcb == NULL || tcp_bind(pcb, IP_ADDR_ANY, port) != ERR_OK ||
        (pcb = tcp_listen(pcb)) == NULL) {
        return -1;
    }
    tcp_accept(pcb, accept);
    return 0;
}

/* ---- the measurements ------------------------------------------------------------------------ */
enum kind { WS_TEXT, WS_BINARY, RAW };
static const char *const kind_name[] = {"ws-text", "ws-binary", "raw"};

/* The client's message: a masked frame (RFC 6455 5.2/5.3) or the bare payload. */
static void build(enum kind kind, uint32_t size)
{
    static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
    uint32_t h = 0, i;
    uint8_t *payload;
    if (kind == RAW) {
        payload = frame;
    } else {
        frame[h++] = kind == WS_TEXT ? 0x81 : 0x82;
        if (size < 126) {
            frame[h++] = (uint8_t)(0x80 | size);
        } else {
            frame[h++] = 0x80 | 126;
            frame[h++] = (uint8_t)(size >> 8);
            frame[h++] = (uint8_t)size;
        }
        memcpy(frame + h, key, 4);
        h += 4;
        payload = frame + h;
    }
    for (i = 0; i < size; i++) {
        uint8_t c = (uint8_t)(' ' + i % 95); /* printable ASCII: valid UTF-8 */
        payload[i] = kind == RAW ? c : (uint8_t)(c ^ key[i % 4]);
    }
    frame_len = h + size;
    /* The echo: unmasked, header 2 bytes (< 126) or 4 bytes. */
    expect_len = kind == RAW ? size : size + (size < 126 ? 2u : 4u);
}

/* The echo kept by the first warm-up round: an unmasked final frame of the same kind
 * carrying the payload (lwip-ws), or the payload itself (raw). */
static int echo_ok(enum kind kind, uint32_t size)
{
    uint32_t h = 0, i;
    if (kind != RAW) {
        if (echo[0] != (kind == WS_TEXT ? 0x81 : 0x82)) {
            return 0;
        }
        h = size < 126 ? 2u : 4u;
        if (echo[1] != (size < 126 ? size : 126u) ||
            (size >= 126 && (echo[2] != (uint8_t)(size >> 8) || echo[3] != (uint8_t)size))) {
            return 0;
        }
    }
    for (i = 0; i < size; i++) {
        if (echo[h + i] != (uint8_t)(' ' + i % 95)) {
            return 0;
        }
    }
    return 1;
}

static int measure(struct tcp_pcb *pcb, enum kind kind, uint32_t size, int rounds, int profile)
{
    uint32_t t0, t1, w0;
    int i;
    build(kind, size);
    for (i = 0; i < 3; i++) { /* warm up: buffers reach their size, windows open */
        verifying = i == 0;
        if (exchange(pcb, frame, frame_len, expect_len) < 0) {
            return -1;
        }
        verifying = 0;
        if (i == 0 && !echo_ok(kind, size)) {
            printf("bench: %s %lu: the echo differs from the message\n", kind_name[kind],
                   (unsigned long)size);
            return -1;
        }
    }
    stalls = 0;
    if (profile) {
        profile_start();
    }
    w0 = wire_ticks;
    t0 = clock_ticks();
    for (i = 0; i < rounds; i++) {
        if (exchange(pcb, frame, frame_len, expect_len) < 0) {
            return -1;
        }
    }
    t1 = clock_ticks();
    if (profile) {
        profile_stop(kind_name[kind], (int)size, rounds);
        return 0;
    }
    printf("round %s %lu %d %lu %lu %lu\n", kind_name[kind], (unsigned long)size, rounds,
           (unsigned long)((uint64_t)(t1 - t0) * INSNS_PER_TICK / (uint32_t)rounds),
           (unsigned long)((uint64_t)(wire_ticks - w0) * INSNS_PER_TICK / (uint32_t)rounds),
           (unsigned long)stalls);
    return 0;
}

/* A loop of a known instruction count, timed: shows the timer counts instructions. */
static void calibrate(void)
{
    uint32_t n = 250000, t0, t1;
    t0 = clock_ticks();
    __asm volatile("1: subs %0, %0, #1\n"
                   "bne 1b\n"
                   : "+r"(n)
                   :
                   : "cc");
    t1 = clock_ticks();
    printf("calib %lu %lu\n", 2ul * 250000ul, (unsigned long)((t1 - t0) * INSNS_PER_TICK));
}

int mps2_main(void)
{
    static const char request[] = "GET / HTTP/1.1\r\nHost: 10.0.0.1\r\n"
                                  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                  "Sec-WebSocket-Version: 13\r\n\r\n";
    static const uint32_t sizes[] = {16, 1024, MAX_MSG};
    static const int rounds[] = {200, 100, 20};
    ip4_addr_t ip, mask, gw;
    struct tcp_pcb *ws_pcb, *raw_pcb;
    unsigned s;
    int k;

    TIMER_RELOAD(TIMER1_BASE) = 0xFFFFFFFFu;
    TIMER_VALUE(TIMER1_BASE) = 0xFFFFFFFFu;
    TIMER_CTRL(TIMER1_BASE) = 0x1; /* enable, no interrupt */
    printf("bench: lwip-ws vs raw lwIP TCP echo, instructions per round (QEMU -icount shift=0)\n");
    calibrate();

    lwip_init();
    IP4_ADDR(&ip, 10, 0, 0, 1);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    IP4_ADDR(&gw, 0, 0, 0, 0);
    if (netif_add(&wire, &ip, &mask, &gw, NULL, wire_init, ip_input) == NULL) {
        return 1;
    }
    netif_set_default(&wire);
    netif_set_up(&wire);

    lwipws_setHeapBudget(1024 * 1024);
    if (WSSCB_constructor(&ws_cb, ws_frame, ws_close, NULL) != LWIP_WS_OK ||
        WSS_constructor(&ws_slot, &ws_cb, 1024, 4096) != LWIP_WS_OK ||
        WSS_setMaxMessage(&ws_slot, 64 * 1024) != LWIP_WS_OK ||
        WSS_setSendQueue(&ws_slot, 64 * 1024) != LWIP_WS_OK || listen_on(80, ws_accept) < 0 ||
        listen_on(81, raw_accept) < 0) {
        printf("bench: set-up failed\n");
        return 1;
    }
    ws_pcb = client_open(80);
    raw_pcb = client_open(81);
    if (ws_pcb == NULL || raw_pcb == NULL) {
        printf("bench: cannot connect\n");
        return 1;
    }
    handshaking = 1;
    if (exchange(ws_pcb, (const uint8_t *)request, sizeof request - 1, 1) < 0) {
        return 1;
    }
    while (strstr(response, "\r\n\r\n") == NULL && wire_pump() > 0) {
    }
    handshaking = 0;
    if (strncmp(response, "HTTP/1.1 101", 12) != 0) {
        printf("bench: no upgrade: %s\n", response);
        return 1;
    }

    for (s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        for (k = WS_TEXT; k <= RAW; k++) {
            if (measure(k == RAW ? raw_pcb : ws_pcb, (enum kind)k, sizes[s], rounds[s], 0) < 0) {
                return 1;
            }
        }
    }
    for (k = WS_TEXT; k <= RAW; k += RAW - WS_TEXT) {
        if (measure(k == RAW ? raw_pcb : ws_pcb, (enum kind)k, 1024, 100, 1) < 0) {
            return 1;
        }
    }
    printf("done\n");
    return 0;
}
