/*
 * Firmware entry for examples/chat: the example is compiled unchanged with
 * -Dmain=chat_main and run as if started with "chat slirp:HOSTPORT:80": lwIP on the
 * LAN9118, behind QEMU's user-mode network (slirp) whose hostfwd brings the host's
 * 127.0.0.1:HOSTPORT to port 80, so the URL it prints is the one the host opens.
 * HOSTPORT is QEMU's -append text (e.g. -append 8080), default 8080 (the forward of the
 * documented QEMU command line).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mps2.h"

int chat_main(int argc, char **argv);

/* The last word of QEMU's command line ("chat.elf 8080") when it is a port number. */
static long hostPort(void)
{
    static char line[128];
    char *word, *end;
    long port;
    if (mps2_cmdline(line, sizeof line) < 0) {
        return 8080;
    }
    word = strrchr(line, ' ');
    word = word != NULL ? word + 1 : line;
    port = strtol(word, &end, 10);
    return end != word && *end == '\0' && port > 0 && port <= 65535 ? port : 8080;
}

int mps2_main(void)
{
    static char arg0[] = "chat", arg1[32], arg2[] = "80";
    char *argv[] = {arg0, arg1, arg2, NULL};
    int rc;
    snprintf(arg1, sizeof arg1, "slirp:%ld:80", hostPort());
    printf("mps2-an386: examples/chat on lwIP + lwip-ws\n");
    rc = chat_main(3, argv);
    printf("mps2-an386: exit %d\n", rc);
    return rc;
}
