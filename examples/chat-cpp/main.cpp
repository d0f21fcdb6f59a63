/*
 * chat-cpp SPEC [PORT] [--seconds N]
 *
 * A chat room in C++11 on lwip_ws.hpp, in the style of the reference API's WebSocket
 * chat: one lwIP port serves the page (GET /, sent from constant data with
 * respondStatic) and the socket (GET /chat). A client's first message is its nickname;
 * every later one goes to everyone in the room as "nick: text", in the order the server
 * received them; joins and leaves are announced ("* nick joined", "* nick left").
 *
 * Built as firmware builds it: -std=c++11 -fno-exceptions -fno-rtti, no heap of its own,
 * no static object constructed before main() (the server lives in main(), made once
 * lwIP runs, in its core context: here the NO_SYS main loop). SPEC is a hostnet network
 * (hostnet.h): "slirp:HOSTPORT:GUESTPORT", "tap:IF:IP:HOSTIP" or "loop"; PORT is lwIP's
 * port (default: slirp's GUESTPORT, else 80). Runs until SIGINT/SIGTERM or N seconds.
 */
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "hostnet.h"
#include "lwip_ws.hpp"
#include "page.h" /* chat_page[], chat_page_len: constant, generated from index.html */

namespace {

const int kSlots = 32;
const int kNickMax = 16;
const int kLineMax = 900;            /* longest line a client may send */
const uint32_t kSendQueue = 16384;   /* per client: a slow reader loses lines past it */
volatile std::sig_atomic_t stopRequested;

void onSignal(int) { stopRequested = 1; }

/* The room: the listener (requests are member calls) and the connection callbacks
 * (member calls too), the connection slots and each member's nickname. */
class ChatRoom : public lwipws::Listener<ChatRoom>, public lwipws::Callbacks<ChatRoom> {
public:
    unsigned long dropped = 0; /* lines a full send queue refused */

    void onRequest(lwipws::Request &req) noexcept
    {
        const char *path = req.path();
        int rc;
        if (std::strcmp(path, "/") == 0 || std::strcmp(path, "/index.html") == 0) {
            rc = req.respondStatic(200, "text/html; charset=utf-8", chat_page,
                                   static_cast<int>(chat_page_len));
        } else if (std::strcmp(path, "/chat") != 0 || !req.isWebSocket()) {
            rc = req.reject(404);
        } else {
            rc = join(req);
        }
        report("request", rc);
    }

    void onFrame(lwipws::WSS &wss, void *data, int len, bool isTxt) noexcept
    {
        Member &m = member(wss);
        const char *text = static_cast<const char *>(data); /* NUL-terminated */
        if (!isTxt || len > kLineMax) {
            report("close", wss.close(1003));
        } else if (m.nick[0] != '\0') {
            say("%s: %s", m.nick, text);
        } else if (len == 0 || len > kNickMax || std::strpbrk(text, ":*\r\n") != nullptr) {
            report("close", wss.close(1008)); /* not a nickname */
        } else {
            std::memcpy(m.nick, text, static_cast<size_t>(len) + 1);
            say("* %s joined", m.nick, "");
        }
    }

    void onClose(lwipws::WSS &wss, int) noexcept
    {
        Member &m = member(wss);
        m.busy = false;
        if (m.nick[0] != '\0') {
            char nick[kNickMax + 1];
            std::memcpy(nick, m.nick, sizeof nick);
            m.nick[0] = '\0';
            say("* %s left", nick, "");
        }
    }

    /* Starts the close handshake of every member (1001: going away). */
    void closeAll() noexcept
    {
        for (Member &m : members_) {
            if (m.wss.isValid()) {
                report("close", m.wss.close(1001));
            }
        }
    }

    int busy() const noexcept
    {
        int n = 0;
        for (const Member &m : members_) {
            n += m.busy ? 1 : 0;
        }
        return n;
    }

private:
    struct Member {
        lwipws::WSS wss; /* first: member() finds the Member from its WSS */
        char nick[kNickMax + 1];
        bool busy;
    };

    static void report(const char *what, int rc) noexcept
    {
        if (rc != LWIP_WS_OK) {
            std::fprintf(stderr, "chat-cpp: %s: %s\n", what, lwipws::errorText(rc));
        }
    }

    Member &member(lwipws::WSS &wss) noexcept
    {
        return members_[reinterpret_cast<Member *>(&wss) - members_];
    }

    int join(lwipws::Request &req) noexcept
    {
        for (Member &m : members_) {
            if (m.busy) {
                continue;
            }
            int rc = m.wss.reset(*this, 256, 256);
            if (rc == LWIP_WS_OK) {
                rc = m.wss.setMaxMessage(kLineMax + 1);
            }
            if (rc == LWIP_WS_OK) {
                rc = m.wss.setSendQueue(kSendQueue);
            }
            if (rc != LWIP_WS_OK) {
                report("slot", rc);
                return req.reject(500);
            }
            m.nick[0] = '\0';
            if (m.wss.upgrade(req) == LWIP_WS_OK) {
                m.busy = true;
            } /* else the library answered with the HTTP error */
            return LWIP_WS_OK;
        }
        return req.reject(503); /* the room is full */
    }

    /* Sends one line to every member who has a nickname. */
    void say(const char *format, const char *a, const char *b) noexcept
    {
        char line[kNickMax + kLineMax + 16];
        int len = std::snprintf(line, sizeof line, format, a, b);
        if (len < 0 || len >= static_cast<int>(sizeof line)) {
            return;
        }
        for (Member &m : members_) {
            if (m.nick[0] == '\0' || !m.wss.isValid()) {
                continue;
            }
            int rc = m.wss.write(line, len, true);
            if (rc == LWIP_WS_ERR_WOULD_BLOCK) {
                dropped++; /* this reader is too slow: it misses the line */
            } else {
                report("write", rc);
            }
        }
    }

    Member members_[kSlots] = {};
};

/* The URL the host reaches: slirp forwards 127.0.0.1:HOSTPORT; tap has lwIP's own IP. */
void printUrl(const char *spec, int port)
{
    char host[64] = "127.0.0.1";
    if (std::strncmp(spec, "slirp:", 6) == 0) {
        port = std::atoi(spec + 6);
    } else if (std::strncmp(spec, "tap:", 4) == 0) {
        const char *ip = std::strchr(spec + 4, ':');
        size_t n = ip != nullptr ? std::strcspn(ip + 1, ":") : 0;
        if (n > 0 && n < sizeof host) {
            std::memcpy(host, ip + 1, n);
            host[n] = '\0';
        }
    }
    std::printf("ready http://%s:%d/\n", host, port);
}

} // namespace

int main(int argc, char **argv)
{
    long seconds = 7L * 24 * 3600;
    int port = 80;
    int i = 2;
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s SPEC [PORT] [--seconds N]\n", argv[0]);
        return 2;
    }
    if (const char *guest = std::strncmp(argv[1], "slirp:", 6) == 0 ? std::strrchr(argv[1], ':')
                                                                     : nullptr) {
        port = std::atoi(guest + 1);
    }
    if (argc > 2 && std::strncmp(argv[2], "--", 2) != 0) {
        port = std::atoi(argv[i++]);
    }
    if (i + 1 < argc && std::strcmp(argv[i], "--seconds") == 0) {
        seconds = std::atol(argv[i + 1]);
        i += 2;
    }
    if (i != argc || port <= 0 || port > 65535 || seconds <= 0) {
        std::fprintf(stderr, "usage: %s SPEC [PORT] [--seconds N]\n", argv[0]);
        return 2;
    }
    std::signal(SIGTERM, onSignal);
    std::signal(SIGINT, onSignal);
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    if (hostnet_start(argv[1]) < 0) {
        return 1;
    }
    {
        ChatRoom room; /* lwIP runs: its core context is this loop */
        int rc = room.error();
        if (rc == LWIP_WS_OK) {
            rc = room.listen(static_cast<uint16_t>(port));
        }
        if (rc != LWIP_WS_OK) {
            std::fprintf(stderr, "chat-cpp: listen on %d: %s\n", port, lwipws::errorText(rc));
            return 1;
        }
        printUrl(argv[1], port);
        std::time_t deadline = std::time(nullptr) + seconds;
        while (!stopRequested && std::time(nullptr) < deadline) {
            hostnet_poll(100);
        }
        room.closeAll(); /* then wait up to 2 s for the close handshakes */
        for (int rounds = 0; rounds < 200 && room.busy() > 0; rounds++) {
            hostnet_poll(10);
        }
        std::printf("chat-cpp: stopped (%lu lines dropped for slow readers)\n", room.dropped);
    } /* ~ChatRoom: any connection still open gets 1001, then the listener closes */
    return 0;
}
