/*
 * The benchmark's instrument, in dom0 (scripts/bench-guest.sh): one
 * guest's block phases timed by Linux blkback's own counters, the same way
 * for the xenfront test kernel and for a Linux domU.
 *
 *   xf-bench-mon DOMID LABEL RUN
 *
 * The guest writes "start DISK PHASE BS", then "end DISK PHASE BS", around
 * each phase, and "done ..." at the end, each to a node of its own under
 * data/bench (data/bench/0, 1, ...). Meanwhile
 * this program samples the vbd's statistics (rd_req, wr_req, rd_sect,
 * wr_sect under /sys/bus/xen-backend/devices/vbd-DOMID-VDEV/statistics)
 * every 20 ms (each edge of a 3 s phase is then known to within 0.7 %;
 * sampling faster costs dom0 CPU the guests' back end needs: under TCG
 * each of a PV dom0's system calls is a trip through Xen). A phase's time runs from the last sample before
 * its counters first moved to the first sample that shows their final
 * value: the guest's start-up (fio's exec and set-up, a marker's xenstore
 * round trip) and its drain are not counted, for either guest. dom0's CPU
 * time over the phase comes from /proc/stat. One line per phase:
 *
 *   XF-BENCH LABEL RUN DISK PHASE bytes=B ms=T iops=I mibs=M reqs=R cpu_ms=C
 *
 * iops is bytes / BS per second (Linux may merge or split requests; blkback's
 * request count is reqs). Exits 0 after "done"; 1 on a bad marker, when
 * the domain is gone without "done", or after 5 minutes without a marker.
 * It is the only thing dom0 runs meanwhile (no polling shell loop, no xl):
 * under TCG every fork and every xl run would take CPU the measured back
 * end needs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xenstore.h>

struct sample {
    double t;
    uint64_t sect, reqs;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t read_u64(const char *dir, const char *name)
{
    char p[256];
    unsigned long long v = 0;
    FILE *f;

    snprintf(p, sizeof(p), "%s/%s", dir, name);
    f = fopen(p, "r");
    if (f == NULL)
        return 0;
    if (fscanf(f, "%llu", &v) != 1)
        v = 0;
    fclose(f);
    return v;
}

static void sample(const char *stats, struct sample *s)
{
    s->t = now_s();
    s->sect = read_u64(stats, "rd_sect") + read_u64(stats, "wr_sect");
    s->reqs = read_u64(stats, "rd_req") + read_u64(stats, "wr_req");
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
    char path[128], stats[256], disk[16] = "", phase[64] = "";
    unsigned domid, bs = 0;
    bool in_phase = false;
    struct sample first = { 0 }, prev = { 0 }, cur, moved_from = { 0 }, settled = { 0 };
    bool moved = false;
    double cpu0 = 0, deadline, next_alive;
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

        if (in_phase) {
            sample(stats, &cur);
            if (!moved && (cur.sect != first.sect || cur.reqs != first.reqs)) {
                moved = true;
                moved_from = prev;
            }
            if (cur.sect != prev.sect || cur.reqs != prev.reqs)
                settled = cur;
            prev = cur;
        }
        if (now_s() > deadline) {
            fprintf(stderr, "xf-bench-mon: no marker from domain %u for 300 s\n", domid);
            return 1;
        }
        /* Once a second: is the guest still there (its name node goes
         * with it)? A guest gone without "done" missed its markers. */
        if (now_s() > next_alive) {
            unsigned int l;
            char *name = xs_read(xs, XBT_NULL, dompath, &l);
            if (name == NULL) {
                fprintf(stderr, "xf-bench-mon: domain %u is gone without \"done\"\n", domid);
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
        if (strcmp(what, "done") == 0)
            break;
        if (strcmp(what, "start") == 0) {
            const char *vd = vdev_of(d);
            if (vd == NULL) {
                fprintf(stderr, "xf-bench-mon: unknown disk %s\n", d);
                return 1;
            }
            snprintf(stats, sizeof(stats),
                     "/sys/bus/xen-backend/devices/vbd-%u-%s/statistics", domid, vd);
            snprintf(disk, sizeof(disk), "%s", d);
            snprintf(phase, sizeof(phase), "%s", p);
            bs = b;
            sample(stats, &first);
            prev = first;
            settled = first;
            moved = false;
            cpu0 = cpu_busy_ms();
            in_phase = true;
        } else if (strcmp(what, "end") == 0 && in_phase && strcmp(p, phase) == 0) {
            double cpu = cpu_busy_ms() - cpu0;
            sample(stats, &cur);
            if (cur.sect != prev.sect || cur.reqs != prev.reqs)
                settled = cur;
            in_phase = false;
            uint64_t bytes = (settled.sect - first.sect) * 512;
            double secs = moved ? settled.t - moved_from.t : 0;
            if (!moved || secs <= 0 || bs == 0) {
                printf("XF-BENCH %s %s %s %s bytes=0 ms=0 iops=0 mibs=0 reqs=0 cpu_ms=0\n",
                       argv[2], argv[3], disk, phase);
                continue;
            }
            printf("XF-BENCH %s %s %s %s bytes=%llu ms=%.1f iops=%.0f mibs=%.2f reqs=%llu "
                   "cpu_ms=%.0f\n", argv[2], argv[3], disk, phase, (unsigned long long)bytes,
                   secs * 1000, (double)bytes / bs / secs, (double)bytes / 1048576.0 / secs,
                   (unsigned long long)(settled.reqs - first.reqs), cpu);
            fflush(stdout);
        }
    }
    xs_close(xs);
    return 0;
}
