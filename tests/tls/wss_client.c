/*
 * wss_client SPEC CAFILE HOST PORT [--ip A.B.C.D] [--path P] [--seconds N]
 *
 * The TLS test client: WSS_openClientTls from lwIP over SPEC (hostnet.h; with
 * "slirp:HOSTPORT:GUESTPORT" the host's 127.0.0.1 is 10.0.2.2, the default --ip) to
 * wss://HOST:PORT/P (default path /), verifying the server against CAFILE and the name
 * HOST. Sends "hello over tls", expects it back, closes with 1000. Prints one line per
 * event: "open", "echo ok", "close STATUS", and on LWIP_WS_DROP_TLS_VERIFY_FAILED
 * "verify-failed flags=0xN: REASON" (WSTls_verifyError's lines joined by "; ").
 * Afterwards frees everything and compares lwIP's heap and pools and mbedTLS's heap
 * blocks (mbedtls_count.c) with the baseline taken before the configuration was made.
 *
 * Exit status: 0 echo round trip and close 1000; 4 verification failed; 3 memory not
 * back at baseline; 1 anything else.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hostnet.h"
#include "lwip_ws.h"
#include "unixport.h"

#include "common.h"

static const char hello[] = "hello over tls";
static WSS wss;
static int done, echoed, closeStatus, verifyFailed;

static void onOpen(WSSCB *o, WSS *w, const char *protocol)
{
    int rc;
    (void)o;
    (void)protocol;
    printf("open\n");
    rc = WSS_write(w, hello, (int)strlen(hello), 1);
    if (rc != LWIP_WS_OK) {
        printf("error write: %s\n", WSS_errorText(rc));
    }
}

static void onFrame(WSSCB *o, WSS *w, void *data, int len, int isTxt)
{
    (void)o;
    if (isTxt && len == (int)strlen(hello) && memcmp(data, hello, (size_t)len) == 0) {
        echoed = 1;
        printf("echo ok\n");
    } else {
        printf("error unexpected message (%d bytes)\n", len);
    }
    if (WSS_close(w, 1000) != LWIP_WS_OK) {
        printf("error close refused\n");
    }
}

static void onClose(WSSCB *o, WSS *w, int status)
{
    char why[512];
    char *p;
    int flags;
    (void)o;
    (void)w;
    closeStatus = status;
    done = 1;
    printf("close %d\n", status);
    if (status == LWIP_WS_DROP_TLS_VERIFY_FAILED) {
        verifyFailed = 1;
        flags = WSTls_verifyError(why, (int)sizeof why);
        for (p = why; *p != '\0'; p++) {
            if (*p == '\n') {
                *p = (p[1] == '\0') ? '\0' : ';';
            }
        }
        printf("verify-failed flags=0x%x: %s\n", (unsigned)flags, why);
    }
}

static int usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s SPEC CAFILE HOST PORT [--ip A.B.C.D] [--path P] [--seconds N]\n",
            argv0);
    return 2;
}

int main(int argc, char **argv)
{
    const char *ip = "10.0.2.2", *path = "/";
    long seconds = 20;
    int port, i, rc, caLen;
    char *ca;
    WSSCB cb;
    WSTlsConfig *cfg = NULL;
    ip_addr_t addr;
    MemSnapshot base, now;
    time_t deadline;

    if (argc < 5) {
        return usage(argv[0]);
    }
    port = atoi(argv[4]);
    for (i = 5; i < argc; i++) {
        if (strcmp(argv[i], "--ip") == 0 && i + 1 < argc) {
            ip = argv[++i];
        } else if (strcmp(argv[i], "--path") == 0 && i + 1 < argc) {
            path = argv[++i];
        } else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            seconds = atol(argv[++i]);
        } else {
            return usage(argv[0]);
        }
    }
    if (port <= 0 || port > 65535 || seconds <= 0 || seconds > 600 || !ipaddr_aton(ip, &addr)) {
        return usage(argv[0]);
    }
    ca = readFile(argv[2], &caLen);
    if (ca == NULL) {
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (hostnet_start(argv[1]) < 0) {
        return 1;
    }
    /* Let the gratuitous ARP reach slirp before connecting. */
    for (i = 0; i < 10; i++) {
        hostnet_poll(5);
    }
    memSnapshot(&base);
    rc = WSTls_clientConfig(ca, caLen, NULL, 0, NULL, 0, NULL, &cfg);
    free(ca);
    WSSCB_constructor(&cb, onFrame, onClose, NULL);
    cb.openFp = onOpen;
    if (rc == LWIP_WS_OK) {
        rc = WSS_constructor(&wss, &cb, 1024, 4096);
    }
    if (rc == LWIP_WS_OK) {
        rc = WSS_openClientTls(&wss, &addr, (uint16_t)port, argv[3], path, NULL, cfg);
    }
    if (rc != LWIP_WS_OK) {
        printf("error open: %s\n", WSS_errorText(rc));
        return 1;
    }
    deadline = time(NULL) + seconds;
    while (!done && time(NULL) < deadline) {
        if (hostnet_poll(10) < 0) {
            printf("error network\n");
            return 1;
        }
    }
    if (!done) {
        printf("error timeout after %ld s\n", seconds);
    }
    WSS_destructor(&wss);
    WSTls_freeConfig(cfg);
    for (i = 0; i < 4; i++) {
        unixport_run_for(130000);
        hostnet_poll(5);
        memSnapshot(&now);
        if (memCompare(NULL, &base, &now) == 0) {
            break;
        }
    }
    if (memCompare("wss_client", &base, &now) != 0) {
        printf("memory NOT back at baseline\n");
        return 3;
    }
    printf("memory back at baseline (mbedTLS peak %ld bytes)\n", mbedtlsPeakBytes());
    if (verifyFailed) {
        return 4;
    }
    return done && echoed && closeStatus == 1000 ? 0 : 1;
}
