/*
 * libslirp side of the slirp netif: a user-mode IPv4 network inside this process,
 * reachable from the host through port forwards on 127.0.0.1. No lwIP headers here (see
 * slirp_glue.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/types.h>

#include <libslirp.h>

#include "slirp_glue.h"

#define GLUE_MAX_FDS 256
#define GLUE_MAX_QUEUED 4096 /* frames waiting for lwIP; more are dropped (TCP recovers) */

struct frame {
    struct frame *next;
    size_t len;
    unsigned char data[];
};

struct glue_timer {
    struct glue_timer *next;
    SlirpTimerCb cb;
    void *cb_opaque;
    int64_t expire_ms; /* -1: not armed */
};

struct slirp_glue {
    Slirp *slirp;
    struct frame *head, *tail;
    size_t queued;
    struct glue_timer *timers;
    struct pollfd fds[GLUE_MAX_FDS];
    int nfds;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* slirp -> guest: queue the frame; it is handed to lwIP after slirp returns. */
static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
    struct slirp_glue *g = opaque;
    if (g->queued >= GLUE_MAX_QUEUED) {
        return (ssize_t)len;
    }
    struct frame *f = malloc(sizeof *f + len);
    if (f == NULL) {
        return (ssize_t)len;
    }
    f->next = NULL;
    f->len = len;
    memcpy(f->data, buf, len);
    if (g->tail != NULL) {
        g->tail->next = f;
    } else {
        g->head = f;
    }
    g->tail = f;
    g->queued++;
    return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
    (void)opaque;
    fprintf(stderr, "slirp: guest error: %s\n", msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
    (void)opaque;
    return now_ns();
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    struct slirp_glue *g = opaque;
    struct glue_timer *t = calloc(1, sizeof *t);
    if (t == NULL) {
        return NULL;
    }
    t->cb = cb;
    t->cb_opaque = cb_opaque;
    t->expire_ms = -1;
    t->next = g->timers;
    g->timers = t;
    return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
    struct slirp_glue *g = opaque;
    for (struct glue_timer **pp = &g->timers; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == timer) {
            *pp = (*pp)->next;
            free(timer);
            return;
        }
    }
}

static void cb_timer_mod(void *timer, int64_t expire_time, void *opaque)
{
    (void)opaque;
    ((struct glue_timer *)timer)->expire_ms = expire_time;
}

static void cb_register_poll_fd(int fd, void *opaque)
{
    (void)fd;
    (void)opaque;
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
    (void)fd;
    (void)opaque;
}

static void cb_notify(void *opaque)
{
    (void)opaque;
}

static const SlirpCb callbacks = {
    .send_packet = cb_send_packet,
    .guest_error = cb_guest_error,
    .clock_get_ns = cb_clock_get_ns,
    .timer_new = cb_timer_new,
    .timer_free = cb_timer_free,
    .timer_mod = cb_timer_mod,
    .register_poll_fd = cb_register_poll_fd,
    .unregister_poll_fd = cb_unregister_poll_fd,
    .notify = cb_notify,
};

struct slirp_glue *slirp_glue_new(uint32_t guest_ip, int host_port, int guest_port)
{
    struct slirp_glue *g = calloc(1, sizeof *g);
    if (g == NULL) {
        return NULL;
    }
    SlirpConfig cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.version = 1;
    /* Not restricted: lwIP may also connect out to the host (10.0.2.2 = 127.0.0.1). */
    cfg.restricted = 0;
    cfg.in_enabled = true;
    inet_pton(AF_INET, "10.0.2.0", &cfg.vnetwork);
    inet_pton(AF_INET, "255.255.255.0", &cfg.vnetmask);
    inet_pton(AF_INET, "10.0.2.2", &cfg.vhost);
    inet_pton(AF_INET, "10.0.2.15", &cfg.vdhcp_start);
    inet_pton(AF_INET, "10.0.2.3", &cfg.vnameserver);
    cfg.in6_enabled = false;
    cfg.vhostname = "lwip-ws";
    cfg.if_mtu = 1500;
    cfg.if_mru = 1500;
    g->slirp = slirp_new(&cfg, &callbacks, g);
    if (g->slirp == NULL) {
        fprintf(stderr, "slirp: slirp_new failed\n");
        free(g);
        return NULL;
    }
    if (slirp_glue_forward(g, guest_ip, host_port, guest_port) < 0) {
        slirp_cleanup(g->slirp);
        free(g);
        return NULL;
    }
    return g;
}

int slirp_glue_forward(struct slirp_glue *g, uint32_t guest_ip, int host_port, int guest_port)
{
    struct in_addr host = { .s_addr = htonl(INADDR_LOOPBACK) };
    struct in_addr guest = { .s_addr = guest_ip };
    if (slirp_add_hostfwd(g->slirp, 0, host, host_port, guest, guest_port) < 0) {
        fprintf(stderr, "slirp: cannot forward 127.0.0.1:%d (port in use?)\n", host_port);
        return -1;
    }
    return 0;
}

void slirp_glue_input(struct slirp_glue *g, const void *frame, size_t len)
{
    slirp_input(g->slirp, frame, (int)len);
}

static int cb_add_poll(int fd, int events, void *opaque)
{
    struct slirp_glue *g = opaque;
    if (g->nfds >= GLUE_MAX_FDS) {
        return -1;
    }
    short ev = 0;
    if (events & SLIRP_POLL_IN) ev |= POLLIN;
    if (events & SLIRP_POLL_OUT) ev |= POLLOUT;
    if (events & SLIRP_POLL_PRI) ev |= POLLPRI;
    g->fds[g->nfds].fd = fd;
    g->fds[g->nfds].events = ev;
    g->fds[g->nfds].revents = 0;
    return g->nfds++;
}

static int cb_get_revents(int idx, void *opaque)
{
    struct slirp_glue *g = opaque;
    if (idx < 0 || idx >= g->nfds) {
        return 0;
    }
    short re = g->fds[idx].revents;
    int out = 0;
    if (re & POLLIN) out |= SLIRP_POLL_IN;
    if (re & POLLOUT) out |= SLIRP_POLL_OUT;
    if (re & POLLPRI) out |= SLIRP_POLL_PRI;
    if (re & POLLERR) out |= SLIRP_POLL_ERR;
    if (re & POLLHUP) out |= SLIRP_POLL_HUP;
    return out;
}

static void run_timers(struct slirp_glue *g)
{
    int64_t now_ms = now_ns() / 1000000;
    int fired;
    do {
        fired = 0;
        for (struct glue_timer *t = g->timers; t != NULL; t = t->next) {
            if (t->expire_ms >= 0 && t->expire_ms <= now_ms) {
                t->expire_ms = -1;
                t->cb(t->cb_opaque);
                fired = 1;
                break; /* the callback may have changed the list */
            }
        }
    } while (fired);
}

int slirp_glue_wait(struct slirp_glue *g, int timeout_ms)
{
    /* Frames still queued for lwIP (a poll handles a bounded number): do not sleep. */
    uint32_t timeout = g->head != NULL ? 0 : timeout_ms < 0 ? UINT32_MAX : (uint32_t)timeout_ms;
    int64_t now_ms = now_ns() / 1000000;
    for (struct glue_timer *t = g->timers; t != NULL; t = t->next) {
        if (t->expire_ms >= 0) {
            int64_t left = t->expire_ms > now_ms ? t->expire_ms - now_ms : 0;
            if ((uint64_t)left < timeout) {
                timeout = (uint32_t)left;
            }
        }
    }
    g->nfds = 0;
    slirp_pollfds_fill(g->slirp, &timeout, cb_add_poll, g);
    int r = poll(g->fds, (nfds_t)g->nfds, timeout == UINT32_MAX ? -1 : (int)timeout);
    if (r < 0 && errno != EINTR) {
        fprintf(stderr, "slirp: poll: %s\n", strerror(errno));
        return -1;
    }
    slirp_pollfds_poll(g->slirp, r < 0, cb_get_revents, g);
    run_timers(g);
    return 0;
}

long slirp_glue_next_frame(struct slirp_glue *g, void *buf, size_t cap)
{
    struct frame *f = g->head;
    if (f == NULL) {
        return -1;
    }
    g->head = f->next;
    if (g->head == NULL) {
        g->tail = NULL;
    }
    g->queued--;
    size_t len = f->len;
    memcpy(buf, f->data, len < cap ? len : cap);
    free(f);
    return (long)len;
}
