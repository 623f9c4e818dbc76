/*
 * xf-peer: the dom0 side of the in-guest tests, with Xen's own dom0
 * libraries (libxenstore, libxenevtchn, libxengnttab/gntshr).
 *
 *   xf-peer DOMID NAME
 *
 * It creates /local/domain/DOMID/data/xf (owned by the guest), then serves
 * the guest's requests: data/xf/req-<n> = "<command> <args>", answered in
 * data/xf/resp-<n> = "ok ..." or an error word, in order n = 1, 2, ...
 * until "done", the guest's death, or a time limit. Everything it does is
 * logged to stderr as "xf-peer: ...".
 *
 * Commands:
 *   hello                    -> ok
 *   console-log MARKER       -> ok once MARKER is in xenconsoled's log of NAME
 *   xs-write RELPATH VALUE   -> ok after writing /local/domain/DOMID/RELPATH
 *   evtchn-bind PORT         -> ok LOCALPORT (interdomain bind, initial event drained)
 *   evtchn-wait              -> ok once an event arrives on it (5 s)
 *   evtchn-notify            -> ok after notifying it
 *   evtchn-close             -> ok after unbinding it
 *   gnt-map REF              -> ok: maps the guest's grant writable, checks
 *                               "xenfront-guest-page" at 0, writes
 *                               "dom0-was-here" at 2048, keeps it mapped
 *   gnt-unmap                -> ok after unmapping it
 *   gntshr-share             -> ok REF: a dom0 page shared with the guest,
 *                               holding "dom0-shared-page"
 *   gntshr-check             -> ok if the guest wrote "guest-wrote-this" at
 *                               1024 and Xen's grant copy "copied-by-xen" at
 *                               2048; unshares it
 *   console-input TEXT       -> ok after writing TEXT to the guest console's tty
 *   blk-verify VDEV SECTOR N SEED
 *                            -> ok if sectors SECTOR .. SECTOR+N-1 of the
 *                               block device behind the guest's disk VDEV
 *                               (a number: 51712 is xvda; the device is its
 *                               backend's params), read with O_DIRECT (the
 *                               disk, not dom0's cache), hold the pattern
 *                               of kernel/pattern.h under SEED (0: zeros)
 *   blk-fill VDEV SECTOR N SEED
 *                            -> ok after writing that pattern there
 *                               (O_DIRECT, then fdatasync)
 *   net-echo-start IF [MTU]  -> ok once a thread echoes, on an AF_PACKET socket
 *                               on interface IF (the guest's vif), every frame
 *                               from the guest of EtherType 0x88B5, or
 *                               TCP/IPv4 to 10.99.0.1, with the MACs swapped
 *                               and (PACKET_VNET_HDR) the GSO type and size
 *                               kept; MTU: set IF's MTU first
 *   net-echo-stop            -> ok FRAMES BYTES GSO-FRAMES (what was echoed)
 *   net-ping IF IP ADDR      -> ok after ADDR (dom0's, with its prefix) is put
 *                               on IF and `ping -c 3` of IP got every answer
 *   blk-detach NAME VDEV     -> ok once `xl block-detach DOMID NAME` (xvda) is
 *                               started (in the background: it waits for the
 *                               guest); VDEV's device is remembered
 *   blk-attach NAME          -> ok once `xl block-attach DOMID SPEC` is started,
 *                               SPEC giving NAME that device again
 *   net-detach DEVID         -> ok once the echo is stopped (the interface is
 *                               about to go) and `xl network-detach DOMID
 *                               DEVID` is started in the background
 *   net-attach MAC           -> ok once `xl network-attach DOMID mac=MAC
 *                               script=/tests/xf-vif` is started
 *   bg-wait                  -> ok when that background xl exited 0 (30 s)
 *   done                     -> ok, and exit 0
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <linux/if_ether.h>
#include <linux/virtio_net.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <xenstore.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#include "../kernel/pattern.h"

static unsigned int domid;
static const char *name;
static char base[128];
static struct xs_handle *xs;
static xenevtchn_handle *xce;
static xenevtchn_port_or_error_t lport = -1;
static xengnttab_handle *xgt;
static void *gnt_map;
static xengntshr_handle *xgs;
static void *shr_page;
static uint32_t shr_ref;

static void plog(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "xf-peer: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wait for an event on the evtchn handle for up to ms; returns the port or -1. */
static int evtchn_wait_ms(int ms)
{
    struct pollfd p = { .fd = xenevtchn_fd(xce), .events = POLLIN };
    if (poll(&p, 1, ms) <= 0)
        return -1;
    xenevtchn_port_or_error_t port = xenevtchn_pending(xce);
    if (port < 0)
        return -1;
    xenevtchn_unmask(xce, (evtchn_port_t)port);
    return (int)port;
}

/* The dom0 device behind the guest's disk vdev: its backend's params. */
static bool vdev_device(const char *vdev, char *out, size_t cap)
{
    char path[256];
    unsigned int len;
    snprintf(path, sizeof(path), "/local/domain/%u/device/vbd/%s/backend", domid, vdev);
    char *be = xs_read(xs, XBT_NULL, path, &len);
    if (!be)
        return false;
    snprintf(path, sizeof(path), "%s/params", be);
    free(be);
    char *params = xs_read(xs, XBT_NULL, path, &len);
    if (!params)
        return false;
    snprintf(out, cap, "%s", params);
    free(params);
    return true;
}

/* blk-verify / blk-fill: the pattern over a range of a block device,
 * through O_DIRECT in chunks of up to 1 MiB. */
static void blk_pattern(bool fill, const char *dev, uint64_t sector, uint64_t n, uint64_t seed,
                        char *resp, size_t cap)
{
    const size_t chunk = 1u << 20;
    void *buf;
    int fd = open(dev, (fill ? O_WRONLY : O_RDONLY) | O_DIRECT);
    if (fd < 0) {
        snprintf(resp, cap, "open-%s-failed-%d", dev, errno);
        return;
    }
    if (posix_memalign(&buf, 4096, chunk) != 0) {
        close(fd);
        snprintf(resp, cap, "no-memory");
        return;
    }
    uint64_t off = sector * 512, end = (sector + n) * 512;
    snprintf(resp, cap, "ok");
    while (off < end) {
        size_t len = end - off < chunk ? (size_t)(end - off) : chunk;
        ssize_t got;
        if (fill) {
            xfp_fill(buf, off, len, seed);
            got = pwrite(fd, buf, len, (off_t)off);
        } else {
            got = pread(fd, buf, len, (off_t)off);
        }
        if (got != (ssize_t)len) {
            snprintf(resp, cap, "%s-at-%llu-gave-%zd-errno-%d", fill ? "write" : "read",
                     (unsigned long long)off, got, errno);
            break;
        }
        if (!fill) {
            size_t bad = xfp_check(buf, off, len, seed);
            if (bad != len) {
                snprintf(resp, cap, "mismatch-at-byte-%llu-sector-%llu",
                         (unsigned long long)(off + bad), (unsigned long long)((off + bad) / 512));
                break;
            }
        }
        off += len;
    }
    if (fill && off == end && fdatasync(fd) != 0)
        snprintf(resp, cap, "fdatasync-failed-%d", errno);
    free(buf);
    close(fd);
}

/* net-echo-*: the echo thread and what it counted. */
static int echo_fd = -1;
static pthread_t echo_thread;
static volatile int echo_stop;
static unsigned long echo_frames, echo_bytes, echo_gso, echo_send_errors;

static void *echo_main(void *arg)
{
    static uint8_t buf[sizeof(struct virtio_net_hdr) + 65536];
    (void)arg;
    while (!echo_stop) {
        struct pollfd p = { .fd = echo_fd, .events = POLLIN };
        if (poll(&p, 1, 50) <= 0)
            continue;
        struct sockaddr_ll from;
        socklen_t fl = sizeof(from);
        ssize_t n = recvfrom(echo_fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
                             &fl);
        if (n < (ssize_t)(sizeof(struct virtio_net_hdr) + 14) || from.sll_pkttype == PACKET_OUTGOING)
            continue;
        struct virtio_net_hdr *vh = (struct virtio_net_hdr *)buf;
        uint8_t *f = buf + sizeof(*vh);
        size_t len = (size_t)n - sizeof(*vh);
        unsigned type = (unsigned)f[12] << 8 | f[13];
        bool mine = type == 0x88b5 ||
                    (type == 0x0800 && len >= 54 && f[23] == 6 && f[30] == 10 && f[31] == 99 &&
                     f[32] == 0 && f[33] == 1);
        if (!mine)
            continue;
        uint8_t mac[6];
        memcpy(mac, f, 6);
        memcpy(f, f + 6, 6);
        memcpy(f + 6, mac, 6);
        if (send(echo_fd, buf, (size_t)n, 0) != n) {
            echo_send_errors++;
            plog("echo of %zu bytes (gso %u): %s", len, vh->gso_type, strerror(errno));
            continue;
        }
        echo_frames++;
        echo_bytes += len;
        if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE)
            echo_gso++;
    }
    return NULL;
}

static void echo_start(const char *ifname, int mtu, char *resp, size_t cap)
{
    if (echo_fd >= 0) {
        snprintf(resp, cap, "already-echoing");
        return;
    }
    unsigned idx = if_nametoindex(ifname);
    if (!idx) {
        snprintf(resp, cap, "no-interface-%s", ifname);
        return;
    }
    int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) != 0) {
        snprintf(resp, cap, "packet-socket-failed-%d", errno);
        if (fd >= 0)
            close(fd);
        return;
    }
    /* Room for a whole window of frames (the guest keeps 64 in flight). */
    int big = 8 << 20;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
    struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
                               .sll_ifindex = (int)idx };
    if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
        snprintf(resp, cap, "bind-failed-%d", errno);
        close(fd);
        return;
    }
    if (mtu > 0) {
        struct ifreq ifr = { 0 };
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
        ifr.ifr_mtu = mtu;
        if (ioctl(fd, SIOCSIFMTU, &ifr) != 0) {
            snprintf(resp, cap, "mtu-%d-failed-%d", mtu, errno);
            close(fd);
            return;
        }
    }
    echo_fd = fd;
    echo_stop = 0;
    echo_frames = echo_bytes = echo_gso = echo_send_errors = 0;
    if (pthread_create(&echo_thread, NULL, echo_main, NULL) != 0) {
        close(fd);
        echo_fd = -1;
        snprintf(resp, cap, "thread-failed");
        return;
    }
    snprintf(resp, cap, "ok");
}

static void echo_end(char *resp, size_t cap)
{
    if (echo_fd < 0) {
        snprintf(resp, cap, "not-echoing");
        return;
    }
    /* The last echoes are on their way back when the guest asks: the
     * thread is stopped only after what is queued on the socket. */
    usleep(20000);
    echo_stop = 1;
    pthread_join(echo_thread, NULL);
    close(echo_fd);
    echo_fd = -1;
    if (echo_send_errors)
        snprintf(resp, cap, "send-errors-%lu-after-%lu-frames", echo_send_errors, echo_frames);
    else
        snprintf(resp, cap, "ok %lu frames %lu bytes %lu gso", echo_frames, echo_bytes, echo_gso);
}

/* blk-detach / blk-attach: one xl command in the background. */
static pid_t bg_pid = -1;
static char detached_dev[256];

/* xl VERB DOMID ARG [ARG2] (ARG2 NULL: none). */
static void bg_xl2(const char *verb, const char *arg, const char *arg2, char *resp, size_t cap)
{
    char dom[16];
    if (bg_pid > 0) {
        snprintf(resp, cap, "busy");
        return;
    }
    snprintf(dom, sizeof(dom), "%u", domid);
    bg_pid = fork();
    if (bg_pid == 0) {
        execlp("xl", "xl", "-v", "-T", verb, dom, arg, arg2, (char *)NULL);
        _exit(127);
    }
    snprintf(resp, cap, bg_pid > 0 ? "ok" : "fork-failed");
    plog("xl %s %s %s %s: pid %d", verb, dom, arg, arg2 ? arg2 : "", (int)bg_pid);
}

static void bg_xl(const char *verb, const char *arg, char *resp, size_t cap)
{
    bg_xl2(verb, arg, NULL, resp, cap);
}

static void bg_wait(char *resp, size_t cap)
{
    int st = 0;
    double until = now_s() + 30;
    if (bg_pid <= 0) {
        snprintf(resp, cap, "nothing-running");
        return;
    }
    for (;;) {
        pid_t r = waitpid(bg_pid, &st, WNOHANG);
        if (r == bg_pid)
            break;
        if (r < 0 || now_s() > until) {
            snprintf(resp, cap, "xl-still-running");
            return;
        }
        usleep(20000);
    }
    bg_pid = -1;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        snprintf(resp, cap, "ok");
    else
        snprintf(resp, cap, "xl-failed-status-%d", st);
}

static void handle(const char *req, char *resp, size_t cap)
{
    char cmd[32] = "", arg[256] = "", arg2[256] = "", arg3[64] = "";
    unsigned long long n1 = 0, n2 = 0, n3 = 0;
    sscanf(req, "%31s %255s %255s %63s", cmd, arg, arg2, arg3);

    if (!strcmp(cmd, "hello")) {
        snprintf(resp, cap, "ok");
    } else if (!strcmp(cmd, "console-log")) {
        char path[256], line[4096];
        snprintf(path, sizeof(path), "/var/log/xen/console/guest-%s.log", name);
        double until = now_s() + 5;
        bool found = false;
        while (!found && now_s() < until) {
            FILE *f = fopen(path, "r");
            if (f) {
                while (!found && fgets(line, sizeof(line), f))
                    found = strstr(line, arg) != NULL;
                fclose(f);
            }
            if (!found)
                usleep(50000);
        }
        snprintf(resp, cap, found ? "ok" : "missing-in-%s", path);
    } else if (!strcmp(cmd, "xs-write")) {
        char path[300];
        snprintf(path, sizeof(path), "/local/domain/%u/%s", domid, arg);
        snprintf(resp, cap, xs_write(xs, XBT_NULL, path, arg2, strlen(arg2)) ? "ok" : "xs-write-failed");
    } else if (!strcmp(cmd, "evtchn-bind")) {
        if (!xce && !(xce = xenevtchn_open(NULL, 0))) {
            snprintf(resp, cap, "evtchn-open-failed-%d", errno);
            return;
        }
        lport = xenevtchn_bind_interdomain(xce, domid, (evtchn_port_t)atoi(arg));
        if (lport < 0) {
            snprintf(resp, cap, "bind-failed-%d", errno);
            return;
        }
        /* Xen raises a newly bound port once: take that event now. */
        while (evtchn_wait_ms(200) >= 0)
            ;
        snprintf(resp, cap, "ok %d", (int)lport);
    } else if (!strcmp(cmd, "evtchn-wait")) {
        int p = evtchn_wait_ms(5000);
        if (p == lport)
            snprintf(resp, cap, "ok");
        else
            snprintf(resp, cap, "no-event-%d", p);
    } else if (!strcmp(cmd, "evtchn-notify")) {
        snprintf(resp, cap, xenevtchn_notify(xce, (evtchn_port_t)lport) == 0 ? "ok" : "notify-failed");
    } else if (!strcmp(cmd, "evtchn-close")) {
        snprintf(resp, cap, xenevtchn_unbind(xce, (evtchn_port_t)lport) == 0 ? "ok" : "unbind-failed");
        lport = -1;
    } else if (!strcmp(cmd, "gnt-map")) {
        if (!xgt && !(xgt = xengnttab_open(NULL, 0))) {
            snprintf(resp, cap, "gnttab-open-failed-%d", errno);
            return;
        }
        gnt_map = xengnttab_map_grant_ref(xgt, domid, (uint32_t)atoi(arg), PROT_READ | PROT_WRITE);
        if (!gnt_map) {
            snprintf(resp, cap, "map-failed-%d", errno);
            return;
        }
        if (strcmp(gnt_map, "xenfront-guest-page") != 0) {
            snprintf(resp, cap, "bad-content");
            return;
        }
        strcpy((char *)gnt_map + 2048, "dom0-was-here");
        snprintf(resp, cap, "ok");
    } else if (!strcmp(cmd, "gnt-unmap")) {
        int rc = gnt_map ? xengnttab_unmap(xgt, gnt_map, 1) : -1;
        gnt_map = NULL;
        snprintf(resp, cap, rc == 0 ? "ok" : "unmap-failed");
    } else if (!strcmp(cmd, "gntshr-share")) {
        if (!xgs && !(xgs = xengntshr_open(NULL, 0))) {
            snprintf(resp, cap, "gntshr-open-failed-%d", errno);
            return;
        }
        shr_page = xengntshr_share_pages(xgs, domid, 1, &shr_ref, 1);
        if (!shr_page) {
            snprintf(resp, cap, "share-failed-%d", errno);
            return;
        }
        strcpy(shr_page, "dom0-shared-page");
        snprintf(resp, cap, "ok %u", shr_ref);
    } else if (!strcmp(cmd, "gntshr-check")) {
        bool good = shr_page && !strcmp((char *)shr_page + 1024, "guest-wrote-this") &&
                    !strcmp((char *)shr_page + 2048, "copied-by-xen");
        if (shr_page)
            xengntshr_unshare(xgs, shr_page, 1);
        shr_page = NULL;
        snprintf(resp, cap, good ? "ok" : "guest-write-missing");
    } else if (!strcmp(cmd, "console-input")) {
        char path[64], *tty;
        unsigned int len;
        snprintf(path, sizeof(path), "/local/domain/%u/console/tty", domid);
        tty = xs_read(xs, XBT_NULL, path, &len);
        if (!tty) {
            snprintf(resp, cap, "no-tty");
            return;
        }
        int fd = open(tty, O_WRONLY | O_NOCTTY);
        free(tty);
        if (fd < 0) {
            snprintf(resp, cap, "tty-open-failed-%d", errno);
            return;
        }
        ssize_t n = write(fd, arg, strlen(arg));
        close(fd);
        snprintf(resp, cap, n == (ssize_t)strlen(arg) ? "ok" : "tty-write-failed");
    } else if (!strcmp(cmd, "blk-verify") || !strcmp(cmd, "blk-fill")) {
        char dev[256];
        if (sscanf(req, "%*s %255s %llu %llu %llu", arg, &n1, &n2, &n3) != 4 || n2 > (1ull << 24))
            snprintf(resp, cap, "bad-arguments");
        else if (!vdev_device(arg, dev, sizeof(dev)))
            snprintf(resp, cap, "no-device-for-vdev-%s", arg);
        else
            blk_pattern(!strcmp(cmd, "blk-fill"), dev, n1, n2, n3, resp, cap);
    } else if (!strcmp(cmd, "net-echo-start")) {
        echo_start(arg, atoi(arg2), resp, cap);
    } else if (!strcmp(cmd, "net-echo-stop")) {
        echo_end(resp, cap);
    } else if (!strcmp(cmd, "net-ping")) {
        char cmdline[700];
        /* Words from the guest go to a shell: names and addresses only. */
        if (strspn(arg, "abcdefghijklmnopqrstuvwxyz0123456789.") != strlen(arg) ||
            strspn(arg2, "0123456789.") != strlen(arg2) ||
            strspn(arg3, "0123456789./") != strlen(arg3) || !*arg || !*arg2 || !*arg3) {
            snprintf(resp, cap, "bad-arguments");
            return;
        }
        snprintf(cmdline, sizeof(cmdline),
                 "ip addr add %s dev %s && ping -c 3 -i 0.2 -w 10 %s >&2", arg3, arg, arg2);
        int rc = system(cmdline);
        snprintf(resp, cap, rc == 0 ? "ok" : "ping-failed-%d", rc);
    } else if (!strcmp(cmd, "blk-detach")) {
        if (!vdev_device(arg2, detached_dev, sizeof(detached_dev)))
            snprintf(resp, cap, "no-device-for-vdev-%s", arg2);
        else
            bg_xl("block-detach", arg, resp, cap);
    } else if (!strcmp(cmd, "blk-attach")) {
        char spec[512];
        snprintf(spec, sizeof(spec), "format=raw,vdev=%s,access=rw,backendtype=phy,"
                 "script=/tests/xf-block,target=%s", arg, detached_dev);
        bg_xl("block-attach", spec, resp, cap);
    } else if (!strcmp(cmd, "net-detach")) {
        char scratch[128];
        if (echo_fd >= 0)
            echo_end(scratch, sizeof(scratch));
        bg_xl("network-detach", arg, resp, cap);
    } else if (!strcmp(cmd, "net-attach")) {
        /* network-attach takes each key=value as an argument of its own. */
        char mac[64];
        snprintf(mac, sizeof(mac), "mac=%s", arg);
        bg_xl2("network-attach", mac, "script=/tests/xf-vif", resp, cap);
    } else if (!strcmp(cmd, "bg-wait")) {
        bg_wait(resp, cap);
    } else if (!strcmp(cmd, "done")) {
        snprintf(resp, cap, "ok");
    } else {
        snprintf(resp, cap, "unknown-command");
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: xf-peer DOMID NAME\n");
        return 2;
    }
    domid = (unsigned int)atoi(argv[1]);
    name = argv[2];
    setvbuf(stderr, NULL, _IOLBF, 0);

    xs = xs_open(0);
    if (!xs) {
        plog("xs_open: %s", strerror(errno));
        return 1;
    }
    snprintf(base, sizeof(base), "/local/domain/%u/data/xf", domid);
    struct xs_permissions perms[1] = { { .id = domid, .perms = XS_PERM_NONE } };
    if (!xs_mkdir(xs, XBT_NULL, base) || !xs_set_permissions(xs, XBT_NULL, base, perms, 1)) {
        plog("cannot create %s: %s", base, strerror(errno));
        return 1;
    }
    char home[64];
    snprintf(home, sizeof(home), "/local/domain/%u", domid);
    if (!xs_watch(xs, base, "req") || !xs_watch(xs, "@releaseDomain", "release")) {
        plog("xs_watch: %s", strerror(errno));
        return 1;
    }
    plog("serving domain %u (%s) at %s", domid, name, base);

    double until = now_s() + 240;
    unsigned int next = 1;
    while (now_s() < until) {
        char path[160], resp[512];
        unsigned int len;
        snprintf(path, sizeof(path), "%s/req-%u", base, next);
        char *req = xs_read(xs, XBT_NULL, path, &len);
        if (req) {
            handle(req, resp, sizeof(resp));
            plog("req %u '%s' -> '%s'", next, req, resp);
            snprintf(path, sizeof(path), "%s/resp-%u", base, next);
            if (!xs_write(xs, XBT_NULL, path, resp, strlen(resp)))
                plog("cannot write %s: %s", path, strerror(errno));
            bool done = !strcmp(req, "done");
            free(req);
            next++;
            if (done)
                return 0;
            continue;
        }
        /* Nothing yet: is the guest still there? Then wait for a watch. */
        char *dom = xs_read(xs, XBT_NULL, home, &len);
        if (!dom) {
            plog("domain %u is gone", domid);
            return 1;
        }
        free(dom);
        struct pollfd p = { .fd = xs_fileno(xs), .events = POLLIN };
        if (poll(&p, 1, 1000) > 0) {
            unsigned int n;
            char **w = xs_read_watch(xs, &n);
            free(w);
        }
    }
    plog("time limit reached");
    return 1;
}
