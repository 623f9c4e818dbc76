/*
 * The benchmark's instrument, in dom0 (scripts/bench-guest.sh): one
 * guest's block and network phases timed by Linux blkback's and netback's
 * own counters, the same way for the xenfront test kernel and for a Linux
 * domU.
 *
 *   xf-bench-mon DOMID LABEL RUN
 *
 * The guest writes "start DISK PHASE BS", then "end DISK PHASE BS", around
 * each phase, and "done ..." at the end, each to a node of its own under
 * data/bench (data/bench/0, 1, ...). Meanwhile this program samples the
 * device's counters every 20 ms (each edge of a 3 s phase is then known to
 * within 0.7 %; sampling faster costs dom0 CPU the guests' back end needs:
 * under TCG each of a PV dom0's system calls is a trip through Xen):
 *  - a disk (xvda, xvdb): the vbd's rd_req, wr_req, rd_sect, wr_sect under
 *    /sys/bus/xen-backend/devices/vbd-DOMID-VDEV/statistics;
 *  - DISK "net": the vif's interface counters under
 *    /sys/class/net/vifDOMID.0/statistics. Phases "tx-..." are the guest
 *    sending (netback's rx_packets, rx_bytes); phases "rx-..." the guest
 *    receiving (tx_packets, tx_bytes), for which this program starts the
 *    sender, `/tests/xf-netbench send vifDOMID.0 GUESTMAC BS 600 batch=N
 *    [gso]`, at "start" and stops it at "end" (BS is the frame size; "gso"
 *    when the phase's name has it).
 * A counter that cannot be read or goes backwards means the device was torn
 * down (a guest may close it as soon as its last "end" is written): the
 * phase then ends at the last good sample, and its event count is the last
 * one read (every 10th sample).
 * A phase's time runs from the last sample before its counters first moved
 * to the first sample that shows their final value: the guest's start-up
 * (fio's exec and set-up, a marker's xenstore round trip) and its drain are
 * not counted, for either guest. dom0's CPU time over the phase comes from
 * /proc/stat, the back end's events (the front end's notifications) from
 * /proc/interrupts: the lines named "blkif-backend" (a disk) or
 * "vifDOMID.0-q..." (net). One line per phase:
 *
 *   XF-BENCH LABEL RUN DISK PHASE bytes=B ms=T iops=I mibs=M reqs=R cpu_ms=C evts=E [drops=D]
 *
 * iops is bytes / BS per second (Linux may merge or split requests;
 * blkback's request count is reqs); for net, reqs is frames and iops frames
 * per second, and drops= netback's own drops in the phase's direction (tx_dropped
 * or rx_dropped of the vif; the qdisc's are not in it). Exits 0 after "done"; 1 on a bad marker, when the domain is
 * gone without "done", or after 5 minutes without a marker.
 * It is the only thing dom0 runs meanwhile (no polling shell loop, no xl):
 * under TCG every fork and every xl run would take CPU the measured back
 * end needs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

struct sample {
    double t;
    uint64_t bytes, reqs;
    uint64_t drops;      /* net: netback's drops toward the phase's direction */
};

/* What is sampled: a vbd's or a vif's statistics directory. */
static char stats[256];
static bool is_net, net_rx;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A counter, or false when it cannot be read (the device is gone). */
static bool read_u64(const char *dir, const char *name, uint64_t *out)
{
    char p[320];
    unsigned long long v = 0;
    FILE *f;
    bool ok;

    snprintf(p, sizeof(p), "%s/%s", dir, name);
    f = fopen(p, "r");
    if (f == NULL)
        return false;
    ok = fscanf(f, "%llu", &v) == 1;
    fclose(f);
    *out = v;
    return ok;
}

/* false when a counter cannot be read. */
static bool sample(struct sample *s)
{
    uint64_t a, b, c, d;

    s->t = now_s();
    if (!is_net) {
        if (!read_u64(stats, "rd_sect", &a) || !read_u64(stats, "wr_sect", &b) ||
            !read_u64(stats, "rd_req", &c) || !read_u64(stats, "wr_req", &d))
            return false;
        s->bytes = (a + b) * 512;
        s->reqs = c + d;
        return true;
    }
    /* The interface is dom0's: its tx is the guest's rx. */
    if (!read_u64(stats, net_rx ? "tx_dropped" : "rx_dropped", &s->drops))
        s->drops = 0;
    return read_u64(stats, net_rx ? "tx_bytes" : "rx_bytes", &s->bytes) &&
           read_u64(stats, net_rx ? "tx_packets" : "rx_packets", &s->reqs);
}

/* The back end's interrupts so far: every CPU's count on each line of
 * /proc/interrupts that names it. */
static uint64_t backend_events(const char *name)
{
    char line[1024];
    uint64_t sum = 0;
    FILE *f = fopen("/proc/interrupts", "r");

    if (f == NULL)
        return 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strstr(line, name) == NULL)
            continue;
        char *p = strchr(line, ':');
        if (p == NULL)
            continue;
        for (p++;;) {
            char *e;
            unsigned long long v = strtoull(p, &e, 10);
            if (e == p)
                break;
            sum += v;
            p = e;
        }
    }
    fclose(f);
    return sum;
}

/* The rx phases' sender (dom0 -> guest), or -1. */
static pid_t sender = -1;

static void start_sender(const char *vif, const char *mac, unsigned size, bool gso)
{
    char sz[16];
    snprintf(sz, sizeof(sz), "%u", size);
    sender = fork();
    if (sender == 0) {
        /* 600 s: it is stopped at "end" long before. Batches of frames per
         * system call (sendmmsg): one frame per call costs a PV dom0 under
         * TCG two context switches per frame (sender, netback's thread),
         * and what would be measured is dom0, not the guest's receive
         * path. */
        execl("/tests/xf-netbench", "xf-netbench", "send", vif, mac, sz, "600",
              gso ? "batch=8" : "batch=32", gso ? "gso" : (char *)NULL, (char *)NULL);
        _exit(127);
    }
}

static void stop_sender(void)
{
    if (sender <= 0)
        return;
    kill(sender, SIGTERM);
    (void)waitpid(sender, NULL, 0);
    sender = -1;
}

/* dom0's busy CPU time (all CPUs), in ms. */
static double cpu_busy_ms(void)
{
    unsigned long long v[10] = { 0 };
    double hz = 100.0;   /* USER_HZ */
    FILE *f = fopen("/proc/stat", "r");

    if (f == NULL)
        return 0;
    if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
               &v[4], &v[5], &v[6], &v[7]) != 8)
        memset(v, 0, sizeof(v));
    fclose(f);
    /* user nice system idle iowait irq softirq steal: busy is user, nice,
     * system, irq, softirq. Not steal: that is dom0 waiting while Xen runs
     * the guest on its CPU. */
    return (double)(v[0] + v[1] + v[2] + v[5] + v[6]) * 1000.0 / hz;
}

static const char *vdev_of(const char *disk)
{
    if (strcmp(disk, "xvda") == 0)
        return "51712";
    if (strcmp(disk, "xvdb") == 0)
        return "51728";
    return NULL;
}

int main(int argc, char **argv)
{
    struct xs_handle *xs;
    char path[128], disk[16] = "", phase[64] = "", evname[48] = "";
    unsigned domid, bs = 0;
    bool in_phase = false;
    struct sample first = { 0 }, prev = { 0 }, cur, moved_from = { 0 }, settled = { 0 };
    bool moved = false;
    double cpu0 = 0, deadline, next_alive;
    uint64_t ev0 = 0, ev_last = 0;
    unsigned nsamples = 0;
    bool gone = false;
    char dompath[64];

    if (argc != 4) {
        fprintf(stderr, "usage: xf-bench-mon DOMID LABEL RUN\n");
        return 2;
    }
    domid = (unsigned)strtoul(argv[1], NULL, 10);
    xs = xs_open(0);
    if (xs == NULL) {
        fprintf(stderr, "xf-bench-mon: xs_open: %s\n", strerror(errno));
        return 1;
    }
    snprintf(path, sizeof(path), "/local/domain/%u/data/bench", domid);
    if (!xs_watch(xs, path, "bench")) {
        fprintf(stderr, "xf-bench-mon: watch %s: %s\n", path, strerror(errno));
        return 1;
    }
    snprintf(dompath, sizeof(dompath), "/local/domain/%u/name", domid);
    deadline = now_s() + 300;
    next_alive = now_s() + 1;
    for (;;) {
        struct pollfd pfd = { .fd = xs_fileno(xs), .events = POLLIN };
        int n = poll(&pfd, 1, in_phase ? 20 : 100);

        if (in_phase && !gone) {
            /* A counter unreadable or going backwards: the device was torn
             * down (a guest closing it right after its "end" marker, before
             * this program read it): the phase ends at the last good sample. */
            if (!sample(&cur) || cur.bytes < prev.bytes || cur.reqs < prev.reqs) {
                gone = true;
            } else {
                if (!moved && (cur.bytes != first.bytes || cur.reqs != first.reqs)) {
                    moved = true;
                    moved_from = prev;
                }
                if (cur.bytes != prev.bytes || cur.reqs != prev.reqs)
                    settled = cur;
                prev = cur;
                /* The events too, every 10th sample (reading
                 * /proc/interrupts costs more): the fallback if the device
                 * is gone by "end". */
                if (++nsamples % 10 == 0) {
                    uint64_t e = backend_events(evname);
                    if (e >= ev_last)
                        ev_last = e;
                }
            }
        }
        if (now_s() > deadline) {
            fprintf(stderr, "xf-bench-mon: no marker from domain %u for 300 s\n", domid);
            stop_sender();
            return 1;
        }
        /* Once a second: is the guest still there (its name node goes
         * with it)? A guest gone without "done" missed its markers. */
        if (now_s() > next_alive) {
            unsigned int l;
            char *name = xs_read(xs, XBT_NULL, dompath, &l);
            if (name == NULL) {
                fprintf(stderr, "xf-bench-mon: domain %u is gone without \"done\"\n", domid);
                stop_sender();
                return 1;
            }
            free(name);
            next_alive = now_s() + 1;
        }
        if (n <= 0)
            continue;
        unsigned int num;
        char **ev = xs_read_watch(xs, &num);
        if (ev == NULL)
            continue;
        /* Each marker is a node of its own, written once: read the one
         * the event names (the watch's own path fires too: no value). */
        unsigned int len;
        char *v = strcmp(ev[XS_WATCH_PATH], path) != 0 ?
                  xs_read(xs, XBT_NULL, ev[XS_WATCH_PATH], &len) : NULL;
        free(ev);
        if (v == NULL)
            continue;
        char what[16], d[16], p[64];
        unsigned b;
        if (sscanf(v, "%15s %15s %63s %u", what, d, p, &b) != 4) {
            free(v);
            continue;
        }
        free(v);
        deadline = now_s() + 300;
        if (strcmp(what, "done") == 0) {
            stop_sender();
            break;
        }
        if (strcmp(what, "start") == 0) {
            stop_sender();
            is_net = strcmp(d, "net") == 0;
            if (is_net) {
                char vif[32];
                snprintf(vif, sizeof(vif), "vif%u.0", domid);
                snprintf(stats, sizeof(stats), "/sys/class/net/%s/statistics", vif);
                snprintf(evname, sizeof(evname), " %s-q", vif);   /* not vif13.0 for vif3.0 */
                net_rx = strncmp(p, "rx-", 3) == 0;
                if (net_rx) {
                    char mp[96];
                    unsigned int ml;
                    snprintf(mp, sizeof(mp), "/local/domain/%u/device/vif/0/mac", domid);
                    char *mac = xs_read(xs, XBT_NULL, mp, &ml);
                    if (mac == NULL) {
                        fprintf(stderr, "xf-bench-mon: no %s\n", mp);
                        return 1;
                    }
                    start_sender(vif, mac, b, strstr(p, "gso") != NULL);
                    free(mac);
                }
            } else {
                const char *vd = vdev_of(d);
                if (vd == NULL) {
                    fprintf(stderr, "xf-bench-mon: unknown disk %s\n", d);
                    return 1;
                }
                snprintf(stats, sizeof(stats),
                         "/sys/bus/xen-backend/devices/vbd-%u-%s/statistics", domid, vd);
                snprintf(evname, sizeof(evname), "blkif-backend");
            }
            snprintf(disk, sizeof(disk), "%s", d);
            snprintf(phase, sizeof(phase), "%s", p);
            bs = b;
            if (!sample(&first)) {
                fprintf(stderr, "xf-bench-mon: cannot read %s\n", stats);
                stop_sender();
                return 1;
            }
            prev = first;
            settled = first;
            moved = false;
            gone = false;
            nsamples = 0;
            cpu0 = cpu_busy_ms();
            ev0 = ev_last = backend_events(evname);
            in_phase = true;
        } else if (strcmp(what, "end") == 0 && in_phase && strcmp(p, phase) == 0) {
            stop_sender();
            double cpu = cpu_busy_ms() - cpu0;
            uint64_t ev_end = backend_events(evname);
            if (!gone && (!sample(&cur) || cur.bytes < prev.bytes || cur.reqs < prev.reqs))
                gone = true;
            if (!gone && (cur.bytes != prev.bytes || cur.reqs != prev.reqs))
                settled = cur;
            if (gone || ev_end < ev_last)
                ev_end = ev_last;
            uint64_t evts = ev_end - ev0;
            in_phase = false;
            uint64_t bytes = settled.bytes - first.bytes;
            double secs = moved ? settled.t - moved_from.t : 0;
            if (!moved || secs <= 0 || bs == 0) {
                printf("XF-BENCH %s %s %s %s bytes=0 ms=0 iops=0 mibs=0 reqs=0 cpu_ms=0 evts=0\n",
                       argv[2], argv[3], disk, phase);
                continue;
            }
            uint64_t reqs = settled.reqs - first.reqs;
            printf("XF-BENCH %s %s %s %s bytes=%llu ms=%.1f iops=%.0f mibs=%.2f reqs=%llu "
                   "cpu_ms=%.0f evts=%llu", argv[2], argv[3], disk, phase,
                   (unsigned long long)bytes, secs * 1000,
                   is_net ? (double)reqs / secs : (double)bytes / bs / secs,
                   (double)bytes / 1048576.0 / secs, (unsigned long long)reqs, cpu,
                   (unsigned long long)evts);
            if (is_net)
                printf(" drops=%llu", (unsigned long long)(settled.drops - first.drops));
            printf("\n");
            fflush(stdout);
        }
    }
    xs_close(xs);
    return 0;
}
