/*
 * Firmware entry for examples/chat: the example is compiled unchanged with
 * -Dmain=chat_main and run as if started with "chat lan9118 80".
 */
#include <stdio.h>

#include "mps2.h"

int chat_main(int argc, char **argv);

int mps2_main(void)
{
    static char arg0[] = "chat", arg1[] = "lan9118", arg2[] = "80";
    char *argv[] = {arg0, arg1, arg2, NULL};
    int rc;
    printf("mps2-an386: examples/chat on lwIP + lwip-ws\n");
    rc = chat_main(3, argv);
    printf("mps2-an386: exit %d\n", rc);
    return rc;
}
