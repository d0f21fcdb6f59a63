/*
 * tcp_echo SPEC PORT [SECONDS]: a plain lwIP raw-API TCP echo server on a hostnet
 * network (see hostnet.h). Proves the netifs work and is the raw-TCP baseline for
 * benchmarks. Exits after SECONDS (default 30, at most 3600) or on SIGTERM/SIGINT.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lwip/tcp.h"

#include "hostnet.h"

struct echo {
    struct tcp_pcb *pcb;
    struct pbuf *pending; /* received, not yet written back */
    u16_t offset;         /* bytes of pending's first pbuf already written */
    int peer_closed;
};

static volatile sig_atomic_t stop;
static unsigned long long echoed_bytes;
static unsigned long connections;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void echo_free(struct echo *e)
{
    if (e->pending != NULL) {
        pbuf_free(e->pending);
    }
    free(e);
}

static void echo_close(struct echo *e)
{
    struct tcp_pcb *pcb = e->pcb;
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_sent(pcb, NULL);
    tcp_err(pcb, NULL);
    tcp_poll(pcb, NULL, 0);
    echo_free(e);
    if (tcp_close(pcb) != ERR_OK) {
        tcp_abort(pcb);
    }
}

/* Writes as much pending data as the send buffer takes; closes once the peer has closed
 * and everything is written. Returns ERR_ABRT when the pcb was closed or aborted. */
static err_t echo_flush(struct echo *e)
{
    struct tcp_pcb *pcb = e->pcb;
    while (e->pending != NULL) {
        struct pbuf *p = e->pending;
        u16_t n = (u16_t)(p->len - e->offset);
        u16_t room = tcp_sndbuf(pcb);
        if (n > room) {
            n = room;
        }
        if (n > 0) {
            err_t err = tcp_write(pcb, (const u8_t *)p->payload + e->offset, n,
                                  TCP_WRITE_FLAG_COPY);
            if (err == ERR_MEM) {
                break; /* queue full: retry from the sent or poll callback */
            }
            if (err != ERR_OK) {
                echo_close(e);
                return ERR_ABRT;
            }
            e->offset = (u16_t)(e->offset + n);
            echoed_bytes += n;
            tcp_recved(pcb, n); /* reopen the window only as fast as we echo */
        }
        if (e->offset < p->len) {
            break;
        }
        e->pending = p->next;
        if (p->next != NULL) {
            pbuf_ref(p->next);
        }
        pbuf_free(p);
        e->offset = 0;
    }
    tcp_output(pcb);
    if (e->pending == NULL && e->peer_closed) {
        echo_close(e);
        return ERR_ABRT;
    }
    return ERR_OK;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct echo *e = arg;
    (void)pcb;
    if (p == NULL) {
        e->peer_closed = 1;
    } else if (err != ERR_OK) {
        pbuf_free(p);
        return err;
    } else if (e->pending == NULL) {
        e->pending = p;
    } else {
        pbuf_cat(e->pending, p);
    }
    echo_flush(e);
    return ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    (void)pcb;
    (void)len;
    echo_flush(arg);
    return ERR_OK;
}

static err_t on_poll(void *arg, struct tcp_pcb *pcb)
{
    (void)pcb;
    echo_flush(arg);
    return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
    (void)err;
    if (arg != NULL) {
        echo_free(arg); /* the pcb is already gone */
    }
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK || pcb == NULL) {
        return ERR_VAL;
    }
    struct echo *e = calloc(1, sizeof *e);
    if (e == NULL) {
        tcp_abort(pcb);
        return ERR_ABRT;
    }
    e->pcb = pcb;
    connections++;
    tcp_arg(pcb, e);
    tcp_recv(pcb, on_recv);
    tcp_sent(pcb, on_sent);
    tcp_err(pcb, on_err);
    tcp_poll(pcb, on_poll, 4);
    tcp_nagle_disable(pcb);
    return ERR_OK;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s SPEC PORT [SECONDS]\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[2]);
    long seconds = argc == 4 ? atol(argv[3]) : 30;
    if (port <= 0 || port > 65535 || seconds <= 0 || seconds > 3600) {
        fprintf(stderr, "%s: bad PORT or SECONDS\n", argv[0]);
        return 2;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    setvbuf(stdout, NULL, _IOLBF, 0);

    if (hostnet_start(argv[1]) < 0) {
        return 1;
    }
    struct tcp_pcb *listener = tcp_new_ip_type(IPADDR_TYPE_ANY);
    if (listener == NULL || tcp_bind(listener, IP_ANY_TYPE, (u16_t)port) != ERR_OK) {
        fprintf(stderr, "%s: cannot bind port %d\n", argv[0], port);
        return 1;
    }
    listener = tcp_listen(listener);
    if (listener == NULL) {
        fprintf(stderr, "%s: tcp_listen failed\n", argv[0]);
        return 1;
    }
    tcp_accept(listener, on_accept);
    printf("tcp_echo: listening on %s port %d for %ld s\n", argv[1], port, seconds);

    time_t deadline = time(NULL) + seconds;
    while (!stop && time(NULL) < deadline) {
        if (hostnet_poll(10) < 0) {
            fprintf(stderr, "%s: network error\n", argv[0]);
            return 1;
        }
    }
    tcp_close(listener);
    printf("tcp_echo: %lu connections, %llu bytes echoed\n", connections, echoed_bytes);
    return 0;
}
