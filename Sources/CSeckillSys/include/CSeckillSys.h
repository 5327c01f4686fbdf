#ifndef C_SECKILL_SYS_H
#define C_SECKILL_SYS_H

// Thin, allocation-free wrappers over the Linux calls the transport needs and
// that Swift's Glibc overlay does not surface in a usable form (epoll_event is a
// packed struct; eventfd and some socket constants are macros).

#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Interest bits for csk_epoll_ctl.
enum {
    CSK_EVENT_READ = 1,
    CSK_EVENT_WRITE = 2,
    CSK_EVENT_ERROR = 4,
    CSK_EVENT_HANGUP = 8,
};

/// One readiness report from csk_epoll_wait.
typedef struct {
    int32_t fd;
    uint32_t events; // CSK_EVENT_* bits
} csk_event;

int csk_epoll_create(void);
/// op: 0 add, 1 modify, 2 delete. interest: CSK_EVENT_READ | CSK_EVENT_WRITE.
int csk_epoll_ctl(int epfd, int op, int fd, uint32_t interest);
/// Returns the number of events written to out, or -1 with errno set.
int csk_epoll_wait(int epfd, csk_event *out, int max, int timeout_ms);

int csk_eventfd_create(void);
int csk_eventfd_signal(int fd);
int csk_eventfd_drain(int fd);

/// A non-blocking, close-on-exec TCP socket with TCP_NODELAY set.
int csk_tcp_socket(int family);
/// send(2) with MSG_NOSIGNAL so a closed peer gives EPIPE instead of SIGPIPE.
ssize_t csk_send(int fd, const void *buf, size_t len);
/// The pending error of a socket (SO_ERROR), 0 when the connect succeeded.
int csk_socket_error(int fd);
/// Connects a non-blocking socket to an IPv4 or IPv6 literal. Returns 0, or -1 with errno
/// (EINPROGRESS is the usual answer). Returns -2 when `address` is not a literal of `family`.
int csk_connect_literal(int fd, int family, const char *address, uint16_t port);
/// 4 for an IPv4 literal, 6 for an IPv6 literal, 0 otherwise.
int csk_literal_family(const char *address);
/// AF_INET / AF_INET6 values, which Swift sees as macros of a different type.
int csk_af_inet(void);
int csk_af_inet6(void);

/// Resolves a host name (blocking getaddrinfo) into numeric addresses written to `out`
/// separated by '\n'. Returns the number of addresses, or a negative EAI_* code.
int csk_resolve(const char *host, char *out, size_t outlen);
/// The text of an EAI_* code.
const char *csk_resolve_error(int code);

/// Monotonic clock in nanoseconds.
uint64_t csk_monotonic_ns(void);

/// Peak resident set size of this process in bytes (from getrusage).
uint64_t csk_peak_rss_bytes(void);

/// CPU time (user + system) this process has used, in nanoseconds (from getrusage).
uint64_t csk_cpu_ns(void);

#ifdef __cplusplus
}
#endif

#endif
