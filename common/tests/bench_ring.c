/*
 * bench_ring: requests per second through a one-page netif tx ring between
 * two threads, xenfront's ring layer (its fast path, both sides) against
 * Xen's own io/ring.h macros (both sides), measured side by side, with the
 * generic per-record calls (the shape before the fast path) as a third.
 *
 * Modes, each measured for both implementations:
 *  - lockstep: the front end fills every free slot before it pushes, then
 *    waits for responses; the two sides barely overlap, so this measures
 *    the serial cost of a request;
 *  - pipelined: the front end pushes small batches (-b, default 8) as soon
 *    as there is room and collects responses in between; both sides are
 *    busy at once;
 * and two ways of idling:
 *  - poll: both sides spin; push decisions are taken (and counted);
 *  - event: a side with no work re-arms its event index (final check) and
 *    blocks on a condition variable until the other side's push says
 *    notify. Counts notifications per request.
 *
 * Fairness: both consumers check every field of every record they take
 * (so the compiler cannot drop part of either copy); the two threads are
 * pinned to two CPUs where the machine allows; the implementations run
 * interleaved, in alternating order, round after round, and each round's
 * ratio is taken from its own pair of runs. Printed: median and range
 * (min..max) over the rounds, of each throughput and of the ratio.
 *
 * Usage: bench_ring [-n requests per run] [-r rounds] [-b pipelined batch]
 *                   [-m mode] (only the modes whose name contains "mode")
 */
#define _GNU_SOURCE
#include "ring_test_util.h"

#include <inttypes.h>
#include <sched.h>
#include <unistd.h>

#include <xen/grant_table.h>
#include <xen/io/netif.h>

#define WAIT_TIMEOUT_NS (30ull * 1000000000ull)
#define MAX_ROUNDS 31
#define BATCH_MAX 64

/* Each side's private state on cache lines of its own (128 bytes: adjacent
 * lines are prefetched in pairs), so the two threads' contexts do not
 * false-share and the benchmark measures the ring, not that. */
#define PRIVATE _Alignas(128)

struct run {
    void *page;
    uint64_t n;
    bool poll;
    uint32_t batch;                    /* front's push batch; 0 = fill all */
    atomic_int failed;
    PRIVATE struct rt_evt to_back;
    PRIVATE struct rt_evt to_front;
    PRIVATE struct xf_front_ring xf_front;
    uint64_t req_notify;
    PRIVATE struct xf_back_ring xf_back;
    uint64_t rsp_notify;
    PRIVATE netif_tx_front_ring_t xen_front;
    PRIVATE netif_tx_back_ring_t xen_back;
    PRIVATE char end;
};

static int ncpus;

static void pin(int cpu)
{
    cpu_set_t set;

    if (ncpus < 2)
        return;
    CPU_ZERO(&set);
    CPU_SET(cpu % ncpus, &set);
    (void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void die(struct run *r, const char *what)
{
    fprintf(stderr, "bench_ring: %s\n", what);
    atomic_store(&r->failed, 1);
    rt_evt_stop(&r->to_back);
    rt_evt_stop(&r->to_front);
}

static bool failed(struct run *r)
{
    return atomic_load_explicit(&r->failed, memory_order_relaxed) != 0;
}

/* Request seq, and the check of every one of its fields. */
static inline void fill_req(struct netif_tx_request *q, uint64_t seq)
{
    q->gref = (grant_ref_t)seq;
    q->offset = (uint16_t)(seq & 0x7ff);
    q->flags = (uint16_t)(seq >> 11 & 0xf);
    q->id = (uint16_t)seq;
    q->size = (uint16_t)(1514 + (seq & 7));
}

static inline bool req_ok(const struct netif_tx_request *q, uint64_t seq)
{
    return q->gref == (grant_ref_t)seq && q->offset == (uint16_t)(seq & 0x7ff) &&
           q->flags == (uint16_t)(seq >> 11 & 0xf) && q->id == (uint16_t)seq &&
           q->size == (uint16_t)(1514 + (seq & 7));
}

static inline bool rsp_ok(const struct netif_tx_response *p, uint64_t seq)
{
    return p->id == (uint16_t)seq && p->status == NETIF_RSP_OKAY;
}

static void idle(struct run *r, struct rt_evt *e)
{
    if (r->poll)
        rt_cpu_relax();
    else if (rt_evt_wait(e, WAIT_TIMEOUT_NS) != 0)
        die(r, "lost wake-up (deadline passed)");
}

/* How many the front end puts in one go: everything free (lockstep), or
 * at most one batch (pipelined). */
static inline uint32_t take_now(const struct run *r, uint32_t free, uint64_t left)
{
    uint32_t k = free;

    if (r->batch != 0 && k > r->batch)
        k = r->batch;
    if (k > left)
        k = (uint32_t)left;
    return k;
}

/* ------------------------------------------------------------ xenfront */

static void *front_xf(void *arg)
{
    struct run *r = arg;
    struct xf_front_ring *f = &r->xf_front;
    uint64_t sent = 0, recvd = 0;

    pin(0);
    while (recvd < r->n && !failed(r)) {
        bool progress = false;
        uint32_t k = take_now(r, xf_front_ring_free(f), r->n - sent);
        int m;

        if (k > 0) {
            for (uint32_t i = 0; i < k; i++)
                fill_req(XF_FRONT_RING_REQ(f, netif_tx, i), sent + i);
            xf_front_ring_produce(f, k);
            sent += k;
            if (xf_front_ring_push(f)) {
                r->req_notify++;
                if (!r->poll)
                    rt_evt_signal(&r->to_back);
            }
            progress = true;
        }
        /* Everything the snapshot of rsp_prod holds, read and checked
         * once, each response copied out once, as Xen's loop does. */
        if ((m = XF_FRONT_RING_POLL(f, netif_tx)) > 0) {
            for (int i = 0; i < m; i++) {
                struct netif_tx_response rsp;

                XF_FRONT_RING_COPY_RESPONSE(f, netif_tx, i, &rsp);
                if (!rsp_ok(&rsp, recvd + (uint64_t)i))
                    die(r, "bad response");
            }
            xf_front_ring_consume(f, (uint32_t)m);
            recvd += (uint64_t)m;
            progress = true;
        }
        if (m < 0)
            die(r, "get_responses failed");
        if (progress)
            continue;
        if (r->poll || (m = xf_front_ring_final_check(f)) == 0)
            idle(r, &r->to_front);
        else if (m < 0)
            die(r, "final check failed");
    }
    return NULL;
}

static void *back_xf(void *arg)
{
    struct run *r = arg;
    struct xf_back_ring *b = &r->xf_back;
    uint64_t done = 0;

    pin(1);
    while (done < r->n && !failed(r)) {
        int m;

        /* Everything the snapshot of req_prod holds (read and checked
         * once), each request copied out once and answered in its slot,
         * then one push, as Xen's back-end loop does. */
        if ((m = XF_BACK_RING_POLL(b, netif_tx)) > 0) {
            for (int i = 0; i < m; i++) {
                struct netif_tx_request q;
                struct netif_tx_response *p = XF_BACK_RING_RSP(b, netif_tx, (uint32_t)i);

                XF_BACK_RING_COPY_REQUEST(b, netif_tx, i, &q);
                if (!req_ok(&q, done + (uint64_t)i))
                    die(r, "bad request");
                p->id = q.id;
                p->status = NETIF_RSP_OKAY;
            }
            xf_back_ring_consume(b, (uint32_t)m);
            xf_back_ring_produce(b, (uint32_t)m);
            done += (uint64_t)m;
            if (xf_back_ring_push(b)) {
                r->rsp_notify++;
                if (!r->poll)
                    rt_evt_signal(&r->to_front);
            }
            continue;
        }
        if (m < 0)
            die(r, "get_requests failed");
        if (r->poll || (m = xf_back_ring_final_check(b)) == 0)
            idle(r, &r->to_back);
        else if (m < 0)
            die(r, "final check failed");
    }
    return NULL;
}

/* ---------------------------------------------------------- Xen macros */

static void *front_xen(void *arg)
{
    struct run *r = arg;
    netif_tx_front_ring_t *f = &r->xen_front;
    uint64_t sent = 0, recvd = 0;

    pin(0);
    while (recvd < r->n && !failed(r)) {
        bool progress = false, notify;
        uint32_t k = take_now(r, RING_FREE_REQUESTS(f), r->n - sent);
        unsigned more;
        RING_IDX rp;

        if (k > 0) {
            for (uint32_t i = 0; i < k; i++)
                fill_req(RING_GET_REQUEST(f, f->req_prod_pvt + i), sent + i);
            f->req_prod_pvt += k;
            sent += k;
            RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(f, notify);
            if (notify) {
                r->req_notify++;
                if (!r->poll)
                    rt_evt_signal(&r->to_back);
            }
            progress = true;
        }
        rp = f->sring->rsp_prod;
        xen_rmb();
        while (f->rsp_cons != rp) {
            struct netif_tx_response p;

            RING_COPY_RESPONSE(f, f->rsp_cons, &p);
            f->rsp_cons++;
            if (!rsp_ok(&p, recvd))
                die(r, "bad response");
            recvd++;
            progress = true;
        }
        if (progress)
            continue;
        if (r->poll) {
            idle(r, &r->to_front);
            continue;
        }
        RING_FINAL_CHECK_FOR_RESPONSES(f, more);
        if (!more)
            idle(r, &r->to_front);
    }
    return NULL;
}

static void *back_xen(void *arg)
{
    struct run *r = arg;
    netif_tx_back_ring_t *b = &r->xen_back;
    uint64_t done = 0;

    pin(1);
    while (done < r->n && !failed(r)) {
        bool progress = false, notify;
        unsigned more;
        RING_IDX rp = b->sring->req_prod;

        xen_rmb();
        while (b->req_cons != rp) {
            struct netif_tx_request q;
            struct netif_tx_response *p;

            RING_COPY_REQUEST(b, b->req_cons, &q);
            b->req_cons++;
            if (!req_ok(&q, done))
                die(r, "bad request");
            p = RING_GET_RESPONSE(b, b->rsp_prod_pvt);
            p->id = q.id;
            p->status = NETIF_RSP_OKAY;
            b->rsp_prod_pvt++;
            done++;
            progress = true;
        }
        if (progress) {
            RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(b, notify);
            if (notify) {
                r->rsp_notify++;
                if (!r->poll)
                    rt_evt_signal(&r->to_front);
            }
            continue;
        }
        if (r->poll) {
            idle(r, &r->to_back);
            continue;
        }
        RING_FINAL_CHECK_FOR_REQUESTS(b, more);
        if (!more)
            idle(r, &r->to_back);
    }
    return NULL;
}


/* ------------------------------------- xenfront, generic (the "before") */

/* The per-record calls every user had before the fast path: put_request,
 * get_request/put_response, get_response; kept as the before figure. */
static void *front_gen(void *arg)
{
    struct run *r = arg;
    struct xf_front_ring *f = &r->xf_front;
    uint64_t sent = 0, recvd = 0;

    pin(0);
    while (recvd < r->n && !failed(r)) {
        struct netif_tx_response p;
        bool progress = false;
        uint32_t k = take_now(r, xf_front_ring_free(f), r->n - sent);
        int rc;

        if (k > 0) {
            for (uint32_t i = 0; i < k; i++) {
                struct netif_tx_request q;

                fill_req(&q, sent++);
                (void)xf_front_ring_put_request(f, &q);
            }
            if (xf_front_ring_push(f)) {
                r->req_notify++;
                if (!r->poll)
                    rt_evt_signal(&r->to_back);
            }
            progress = true;
        }
        while ((rc = xf_front_ring_get_response(f, &p)) > 0) {
            if (!rsp_ok(&p, recvd))
                die(r, "bad response");
            recvd++;
            progress = true;
        }
        if (rc < 0)
            die(r, "get_response failed");
        if (progress)
            continue;
        if (r->poll || (rc = xf_front_ring_final_check(f)) == 0)
            idle(r, &r->to_front);
        else if (rc < 0)
            die(r, "final check failed");
    }
    return NULL;
}

static void *back_gen(void *arg)
{
    struct run *r = arg;
    struct xf_back_ring *b = &r->xf_back;
    uint64_t done = 0;

    pin(1);
    while (done < r->n && !failed(r)) {
        struct netif_tx_request q;
        bool progress = false;
        int rc;

        while ((rc = xf_back_ring_get_request(b, &q)) > 0) {
            struct netif_tx_response p = { .id = q.id, .status = NETIF_RSP_OKAY };

            if (!req_ok(&q, done))
                die(r, "bad request");
            (void)xf_back_ring_put_response(b, &p);
            done++;
            progress = true;
        }
        if (rc < 0)
            die(r, "get_request failed");
        if (progress) {
            if (xf_back_ring_push(b)) {
                r->rsp_notify++;
                if (!r->poll)
                    rt_evt_signal(&r->to_front);
            }
            continue;
        }
        if (r->poll || (rc = xf_back_ring_final_check(b)) == 0)
            idle(r, &r->to_back);
        else if (rc < 0)
            die(r, "final check failed");
    }
    return NULL;
}

/* ------------------------------------------------------------- harness */

struct result {
    double rps;
    double req_notify, rsp_notify;   /* per request */
};

enum impl { XEN, XF_FAST, XF_GENERIC };

static int run_once(enum impl impl, bool poll, uint32_t batch, uint64_t n, struct result *res)
{
    static struct run r;
    pthread_t tf, tb;
    uint64_t t0, t1;

    memset(&r, 0, sizeof(r));
    r.page = rt_pages(0, 0);
    if (r.page == NULL)
        return -1;
    r.n = n;
    r.poll = poll;
    r.batch = batch;
    atomic_init(&r.failed, 0);
    rt_evt_init(&r.to_back);
    rt_evt_init(&r.to_front);
    if (impl != XEN) {
        if (xf_front_ring_init(&r.xf_front, r.page, XF_PAGE_SIZE, XF_RING_SHAPE(netif_tx)) ||
            xf_back_ring_init(&r.xf_back, r.page, XF_PAGE_SIZE, XF_RING_SHAPE(netif_tx)))
            return -1;
    } else {
        SHARED_RING_INIT((netif_tx_sring_t *)r.page);
        XEN_FRONT_RING_INIT(&r.xen_front, (netif_tx_sring_t *)r.page, XF_PAGE_SIZE);
        BACK_RING_INIT(&r.xen_back, (netif_tx_sring_t *)r.page, XF_PAGE_SIZE);
    }
    t0 = rt_now_ns();
    pthread_create(&tb, NULL, impl == XEN ? back_xen : impl == XF_FAST ? back_xf : back_gen, &r);
    pthread_create(&tf, NULL, impl == XEN ? front_xen : impl == XF_FAST ? front_xf : front_gen,
                   &r);
    pthread_join(tf, NULL);
    pthread_join(tb, NULL);
    t1 = rt_now_ns();
    res->rps = (double)n / ((double)(t1 - t0) / 1e9);
    res->req_notify = (double)r.req_notify / (double)n;
    res->rsp_notify = (double)r.rsp_notify / (double)n;
    rt_evt_destroy(&r.to_back);
    rt_evt_destroy(&r.to_front);
    free(r.page);
    return atomic_load(&r.failed) ? -1 : 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

struct stat3 {
    double med, lo, hi;
};

static struct stat3 stats(double *v, unsigned n)
{
    struct stat3 s;

    qsort(v, n, sizeof(v[0]), cmp_double);
    s.med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    s.lo = v[0];
    s.hi = v[n - 1];
    return s;
}

int main(int argc, char **argv)
{
    uint64_t n = 2000000;
    unsigned rounds = 7;
    uint32_t batch = 8;
    const char *only = NULL;
    int opt;
    static const struct {
        const char *name;
        bool poll;
        bool pipelined;
    } modes[] = {
        { "lockstep/poll", true, false },
        { "lockstep/event", false, false },
        { "pipelined/poll", true, true },
        { "pipelined/event", false, true },
    };

    while ((opt = getopt(argc, argv, "n:r:b:m:h")) != -1) {
        switch (opt) {
        case 'n':
            n = strtoull(optarg, NULL, 0);
            break;
        case 'r':
            rounds = (unsigned)strtoul(optarg, NULL, 0);
            break;
        case 'b':
            batch = (uint32_t)strtoul(optarg, NULL, 0);
            break;
        case 'm':
            only = optarg;
            break;
        default:
            fprintf(stderr, "usage: %s [-n requests] [-r rounds (5..%d)] [-b batch (1..%d)] [-m mode]\n",
                    argv[0], MAX_ROUNDS, 64);
            return opt == 'h' ? 0 : 2;
        }
    }
    if (n == 0 || rounds < 1 || rounds > MAX_ROUNDS || batch == 0 || batch > 64) {
        fprintf(stderr, "bench_ring: bad -n, -r or -b\n");
        return 2;
    }
    ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);

    printf("bench_ring: netif tx ring, 1 page (%u slots, request %zu B, response %zu B),\n"
           "%" PRIu64 " requests per run, %u interleaved rounds, 2 threads %s,\n"
           "pipelined batch %u; every field checked on both sides\n\n",
           xf_ring_entries(XF_PAGE_SIZE, (uint32_t)sizeof(union netif_tx_sring_entry)),
           sizeof(struct netif_tx_request), sizeof(struct netif_tx_response), n, rounds,
           ncpus >= 2 ? "pinned to CPUs 0 and 1" : "(one CPU: not pinned)", batch);
    printf("%-16s %-20s %-20s %-20s %-18s %-18s %s\n", "mode", "xenfront Mreq/s",
           "Xen macros Mreq/s", "generic Mreq/s", "ratio xf/Xen", "ratio generic/Xen",
           "notify/req xf (req, rsp) | Xen");
    for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
        double xf[MAX_ROUNDS], xen[MAX_ROUNDS], gen[MAX_ROUNDS];
        double ratio[MAX_ROUNDS], gratio[MAX_ROUNDS];
        struct result last_xf = { 0 }, last_xen = { 0 };
        struct stat3 a, b, c, g, gr;
        uint32_t bt = modes[m].pipelined ? batch : 0;

        if (only != NULL && strstr(modes[m].name, only) == NULL)
            continue;

        for (unsigned i = 0; i < rounds; i++) {
            struct result res[3];
            /* Rotate the order, so none always runs first (or warmest). */
            static const enum impl orders[3][3] = {
                { XF_FAST, XEN, XF_GENERIC }, { XEN, XF_GENERIC, XF_FAST },
                { XF_GENERIC, XF_FAST, XEN },
            };

            for (int k = 0; k < 3; k++) {
                enum impl im = orders[i % 3][k];

                if (run_once(im, modes[m].poll, bt, n, &res[im]) != 0) {
                    fprintf(stderr, "bench_ring: run failed\n");
                    return 1;
                }
            }
            xf[i] = res[XF_FAST].rps / 1e6;
            xen[i] = res[XEN].rps / 1e6;
            gen[i] = res[XF_GENERIC].rps / 1e6;
            ratio[i] = res[XF_FAST].rps / res[XEN].rps;
            gratio[i] = res[XF_GENERIC].rps / res[XEN].rps;
            last_xf = res[XF_FAST];
            last_xen = res[XEN];
        }
        a = stats(xf, rounds);
        b = stats(xen, rounds);
        g = stats(gen, rounds);
        c = stats(ratio, rounds);
        gr = stats(gratio, rounds);
        printf("%-16s %5.1f [%5.1f,%5.1f]  %5.1f [%5.1f,%5.1f]  %5.1f [%5.1f,%5.1f]  "
               "%4.2f [%4.2f,%4.2f]   %4.2f [%4.2f,%4.2f]   %.4f %.4f | %.4f %.4f\n",
               modes[m].name, a.med, a.lo, a.hi, b.med, b.lo, b.hi, g.med, g.lo, g.hi,
               c.med, c.lo, c.hi, gr.med, gr.lo, gr.hi, last_xf.req_notify,
               last_xf.rsp_notify, last_xen.req_notify, last_xen.rsp_notify);
        fflush(stdout);
    }
    return 0;
}
