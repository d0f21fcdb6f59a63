/* Headers bindgen reads (lwip-sys/build.rs). */
#include "lwip/opt.h"
#include "lwip/init.h"
#include "lwip/err.h"
#include "lwip/tcp.h"
#include "lwip/altcp.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"
#include "lwip/netif.h"
#include "lwip/ip_addr.h"
#include "lwip/stats.h"
#include "lwip/memp.h"
#include "lwip/mem.h"
#if !NO_SYS
#include "lwip/tcpip.h"
#endif
#include "lwipws_shim.h"
#ifdef LWIPWS_BIND_TLS
#include "lwipws_tls.h"
#endif
#ifdef LWIPWS_BIND_UNIXPORT
#include "unixport.h"
#endif
