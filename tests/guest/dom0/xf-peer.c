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

#include <xenstore.h>
#include <xenevtchn.h>
#include <xengnttab.h>

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

static void handle(const char *req, char *resp, size_t cap)
{
    char cmd[32] = "", arg[256] = "", arg2[256] = "";
    sscanf(req, "%31s %255s %255s", cmd, arg, arg2);

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
