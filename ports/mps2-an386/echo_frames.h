/*
 * The echo both server images answer with (main_echo.c, tls/main_tls.c): every message
 * goes back with its type; the text "close:CODE" makes the server close with CODE; a
 * message not followed by a 0 byte (the header's promise) closes with 4000.
 * Header-only (static functions): each image includes it once. Also the SIGTERM flag
 * the console's 'q' sets (hostnet_mps2.c).
 */
#ifndef LWIP_WS_MPS2_ECHO_FRAMES_H
#define LWIP_WS_MPS2_ECHO_FRAMES_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip_ws.h"

static volatile sig_atomic_t stop;

static void onSignal(int sig)
{
    (void)sig;
    stop = 1;
}

static void onFrame(WSSCB *o, WSS *wss, void *data, int len, int isTxt)
{
    int rc;
    (void)o;
    if (((const char *)data)[len] != 0) {
        /* The header promises data[len] == 0; the tests see this close code. */
        printf("echo: a message without its 0 byte\n");
        rc = WSS_close(wss, 4000);
    } else if (isTxt && len > 6 && len < 12 && strncmp((const char *)data, "close:", 6) == 0) {
        rc = WSS_close(wss, atoi((const char *)data + 6));
    } else {
        rc = WSS_write(wss, data, len, isTxt);
    }
    if (rc != LWIP_WS_OK) {
        printf("echo: %s\n", WSS_errorText(rc));
    }
}

#endif /* LWIP_WS_MPS2_ECHO_FRAMES_H */
