#define _GNU_SOURCE
#include "CSeckillSys.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <netdb.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int csk_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int csk_epoll_ctl(int epfd, int op, int fd, uint32_t interest) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    if (interest & CSK_EVENT_READ) ev.events |= EPOLLIN | EPOLLRDHUP;
    if (interest & CSK_EVENT_WRITE) ev.events |= EPOLLOUT;
    ev.data.fd = fd;
    int kop = op == 0 ? EPOLL_CTL_ADD : (op == 1 ? EPOLL_CTL_MOD : EPOLL_CTL_DEL);
    return epoll_ctl(epfd, kop, fd, &ev);
}

int csk_epoll_wait(int epfd, csk_event *out, int max, int timeout_ms) {
    struct epoll_event evs[256];
    if (max > 256) max = 256;
    int n;
    do {
        n = epoll_wait(epfd, evs, max, timeout_ms);
    } while (n < 0 && errno == EINTR);
    for (int i = 0; i < n; i++) {
        uint32_t e = 0;
        if (evs[i].events & EPOLLIN) e |= CSK_EVENT_READ;
        if (evs[i].events & EPOLLOUT) e |= CSK_EVENT_WRITE;
        if (evs[i].events & EPOLLERR) e |= CSK_EVENT_ERROR;
        if (evs[i].events & (EPOLLHUP | EPOLLRDHUP)) e |= CSK_EVENT_HANGUP;
        out[i].fd = evs[i].data.fd;
        out[i].events = e;
    }
    return n;
}

int csk_eventfd_create(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int csk_eventfd_signal(int fd) {
    uint64_t one = 1;
    ssize_t r;
    do { r = write(fd, &one, sizeof one); } while (r < 0 && errno == EINTR);
    return r == sizeof one || (r < 0 && errno == EAGAIN) ? 0 : -1;
}

int csk_eventfd_drain(int fd) {
    uint64_t value;
    ssize_t r;
    do { r = read(fd, &value, sizeof value); } while (r < 0 && errno == EINTR);
    return r < 0 ? -1 : 0;
}

int csk_tcp_socket(int family) {
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

ssize_t csk_send(int fd, const void *buf, size_t len) {
    ssize_t r;
    do { r = send(fd, buf, len, MSG_NOSIGNAL); } while (r < 0 && errno == EINTR);
    return r;
}

int csk_socket_error(int fd) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return errno;
    return err;
}

int csk_literal_family(const char *address) {
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, address, &a4) == 1) return 4;
    if (inet_pton(AF_INET6, address, &a6) == 1) return 6;
    return 0;
}

int csk_connect_literal(int fd, int family, const char *address, uint16_t port) {
    int r;
    if (family == AF_INET) {
        struct sockaddr_in sa;
        memset(&sa, 0, sizeof sa);
        sa.sin_family = AF_INET;
        sa.sin_port = htons(port);
        if (inet_pton(AF_INET, address, &sa.sin_addr) != 1) return -2;
        do { r = connect(fd, (struct sockaddr *)&sa, sizeof sa); } while (r < 0 && errno == EINTR);
    } else {
        struct sockaddr_in6 sa;
        memset(&sa, 0, sizeof sa);
        sa.sin6_family = AF_INET6;
        sa.sin6_port = htons(port);
        if (inet_pton(AF_INET6, address, &sa.sin6_addr) != 1) return -2;
        do { r = connect(fd, (struct sockaddr *)&sa, sizeof sa); } while (r < 0 && errno == EINTR);
    }
    return r;
}

int csk_af_inet(void) { return AF_INET; }
int csk_af_inet6(void) { return AF_INET6; }

uint64_t csk_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t csk_peak_rss_bytes(void) {
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
    return (uint64_t)usage.ru_maxrss * 1024ull;
}

uint64_t csk_cpu_ns(void) {
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
    uint64_t user = (uint64_t)usage.ru_utime.tv_sec * 1000000000ull + (uint64_t)usage.ru_utime.tv_usec * 1000ull;
    uint64_t sys = (uint64_t)usage.ru_stime.tv_sec * 1000000000ull + (uint64_t)usage.ru_stime.tv_usec * 1000ull;
    return user + sys;
}

int csk_resolve(const char *host, char *out, size_t outlen) {
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0) return rc < 0 ? rc : -rc;
    size_t used = 0;
    int count = 0;
    out[0] = 0;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        char text[INET6_ADDRSTRLEN];
        const void *src = ai->ai_family == AF_INET
            ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
            : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
        if (inet_ntop(ai->ai_family, src, text, sizeof text) == NULL) continue;
        size_t len = strlen(text);
        if (used + len + 2 > outlen) break;
        memcpy(out + used, text, len);
        used += len;
        out[used++] = '\n';
        out[used] = 0;
        count++;
    }
    freeaddrinfo(res);
    return count;
}

const char *csk_resolve_error(int code) { return gai_strerror(code < 0 ? code : -code); }
