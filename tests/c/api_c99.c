/* The C API from C99 (-std=c99 -pedantic): see api_suite.h. */
#include "api_suite.h"

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    runSuite();
    return finishSuite();
}
