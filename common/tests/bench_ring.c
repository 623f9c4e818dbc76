/*
 * bench_ring: throughput and notifications per request through a one-page
 * netif tx ring between two threads, for the xenfront layer (front and back
 * through xf_*_ring) and for Xen's io/ring.h macros (both sides through the
 * macros), measured in the same run.
 *
 * Two modes:
 *  - event: the event model of the tests. A side with no work after its
 *    final check blocks on a condvar until the other side signals, and a
 *    side signals only when its push returned notify. Counts notifications.
 *  - poll: both sides spin; push decisions are still taken (and counted),
 *    nobody blocks, nobody re-arms an event index.
 *
 * Usage: bench_ring [-n requests] [-r repeats]   (median of the repeats)
 */
#include "ring_test_util.h"

#include <inttypes.h>
#include <unistd.h>

#include <xen/grant_table.h>
#include <xen/io/netif.h>

#define WAIT_TIMEOUT_NS (30ull * 1000000000ull)

/*
 * Each side's private state on cache lines of its own (128 bytes: adjacent
 * lines are prefetched in pairs): otherwise the two threads' private ring
 * contexts false-share and the benchmark measures that instead of the ring.
 */
#define PRIVATE _Alignas(128)

struct run {
    void *page;
    uint64_t n;
    bool poll;
    atomic_int failed;
    PRIVATE struct rt_evt to_back;
    PRIVATE struct rt_evt to_front;
    PRIVATE struct xf_front_ring xf_front;
    uint64_t req_notify;               /* front pushes that said notify */
    PRIVATE struct xf_back_ring xf_back;
    uint64_t rsp_notify;               /* back pushes that said notify */
    PRIVATE netif_tx_front_ring_t xen_front;
    PRIVATE netif_tx_back_ring_t xen_back;
    PRIVATE char end;
};

static void die(struct run *r, const char *what)
{
    fprintf(stderr, "bench_ring: %s\n", what);
    atomic_store(&r->failed, 1);
    rt_evt_stop(&r->to_back);
    rt_evt_stop(&r->to_front);
}

static struct netif_tx_request make_req(uint64_t seq)
{
    struct netif_tx_request q = {
        .gref = (grant_ref_t)seq, .offset = (uint16_t)(seq & 0x7ff),
        .flags = 0, .id = (uint16_t)seq, .size = 1514,
    };
    return q;
}

/* Nothing to do: spin (poll) or block until notified (event). */
static void idle(struct run *r, struct rt_evt *e)
{
    if (r->poll)
        rt_cpu_relax();
    else if (rt_evt_wait(e, WAIT_TIMEOUT_NS) != 0)
        die(r, "lost wake-up (deadline passed)");
}

static void *front_xf(void *arg)
{
    struct run *r = arg;
    struct xf_front_ring *f = &r->xf_front;
    uint64_t sent = 0, recvd = 0;

    while (recvd < r->n && !atomic_load_explicit(&r->failed, memory_order_relaxed)) {
        struct netif_tx_response p;
        bool progress = false;
        int rc;

        if (sent < r->n && xf_front_ring_free(f) > 0) {
            while (sent < r->n && xf_front_ring_free(f) > 0) {
                struct netif_tx_request q = make_req(sent++);

                xf_front_ring_put_request(f, &q);
            }
            if (xf_front_ring_push(f)) {
                r->req_notify++;
                if (!r->poll)
                    rt_evt_signal(&r->to_back);
            }
            progress = true;
        }
        while ((rc = xf_front_ring_get_response(f, &p)) > 0) {
            if (p.id != (uint16_t)recvd || p.status != NETIF_RSP_OKAY)
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

static void *back_xf(void *arg)
{
    struct run *r = arg;
    struct xf_back_ring *b = &r->xf_back;
    uint64_t done = 0;

    while (done < r->n && !atomic_load_explicit(&r->failed, memory_order_relaxed)) {
        struct netif_tx_request q;
        bool progress = false;
        int rc;

        while ((rc = xf_back_ring_get_request(b, &q)) > 0) {
            struct netif_tx_response p = { .id = q.id, .status = NETIF_RSP_OKAY };

            if (q.gref != (grant_ref_t)done)
                die(r, "bad request");
            xf_back_ring_put_response(b, &p);
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

static void *front_xen(void *arg)
{
    struct run *r = arg;
    netif_tx_front_ring_t *f = &r->xen_front;
    uint64_t sent = 0, recvd = 0;

    while (recvd < r->n && !atomic_load_explicit(&r->failed, memory_order_relaxed)) {
        bool progress = false, notify;
        unsigned more;
        RING_IDX rp;

        if (sent < r->n && !RING_FULL(f)) {
            while (sent < r->n && !RING_FULL(f)) {
                *RING_GET_REQUEST(f, f->req_prod_pvt) = make_req(sent++);
                f->req_prod_pvt++;
            }
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
            if (p.id != (uint16_t)recvd || p.status != NETIF_RSP_OKAY)
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

    while (done < r->n && !atomic_load_explicit(&r->failed, memory_order_relaxed)) {
        bool progress = false, notify;
        unsigned more;
        RING_IDX rp = b->sring->req_prod;

        xen_rmb();
        while (b->req_cons != rp) {
            struct netif_tx_request q;

            RING_COPY_REQUEST(b, b->req_cons, &q);
            b->req_cons++;
            if (q.gref != (grant_ref_t)done)
                die(r, "bad request");
            *RING_GET_RESPONSE(b, b->rsp_prod_pvt) =
                (struct netif_tx_response){ .id = q.id, .status = NETIF_RSP_OKAY };
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

struct result {
    double rps;
    double req_notify, rsp_notify;   /* per request */
};

static int run_once(bool xenfront, bool poll, uint64_t n, struct result *res)
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
    atomic_init(&r.failed, 0);
    rt_evt_init(&r.to_back);
    rt_evt_init(&r.to_front);
    if (xenfront) {
        if (xf_front_ring_init(&r.xf_front, r.page, XF_PAGE_SIZE, XF_RING_SHAPE(netif_tx)) ||
            xf_back_ring_init(&r.xf_back, r.page, XF_PAGE_SIZE, XF_RING_SHAPE(netif_tx)))
            return -1;
    } else {
        XEN_FRONT_RING_INIT(&r.xen_front, (netif_tx_sring_t *)r.page, XF_PAGE_SIZE);
        BACK_RING_INIT(&r.xen_back, (netif_tx_sring_t *)r.page, XF_PAGE_SIZE);
    }
    t0 = rt_now_ns();
    pthread_create(&tb, NULL, xenfront ? back_xf : back_xen, &r);
    pthread_create(&tf, NULL, xenfront ? front_xf : front_xen, &r);
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

static int cmp_rps(const void *a, const void *b)
{
    double x = ((const struct result *)a)->rps, y = ((const struct result *)b)->rps;

    return (x > y) - (x < y);
}

/* Median of `reps` runs, by requests per second. */
static int measure(bool xenfront, bool poll, uint64_t n, unsigned reps, struct result *out)
{
    struct result rs[16];

    for (unsigned i = 0; i < reps; i++)
        if (run_once(xenfront, poll, n, &rs[i]) != 0)
            return -1;
    qsort(rs, reps, sizeof(rs[0]), cmp_rps);
    *out = rs[reps / 2];
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t n = 2000000;
    unsigned reps = 3;
    int opt;

    while ((opt = getopt(argc, argv, "n:r:h")) != -1) {
        switch (opt) {
        case 'n':
            n = strtoull(optarg, NULL, 0);
            break;
        case 'r':
            reps = (unsigned)strtoul(optarg, NULL, 0);
            break;
        default:
            fprintf(stderr, "usage: %s [-n requests] [-r repeats (1..15)]\n", argv[0]);
            return opt == 'h' ? 0 : 2;
        }
    }
    if (n == 0 || reps == 0 || reps > 15) {
        fprintf(stderr, "bench_ring: bad -n or -r\n");
        return 2;
    }

    printf("bench_ring: netif tx ring, 1 page (%u slots, request %zu B, response %zu B),\n"
           "%" PRIu64 " requests per run, median of %u runs, 2 threads (front, back)\n\n",
           xf_ring_entries(XF_PAGE_SIZE, (uint32_t)sizeof(union netif_tx_sring_entry)),
           sizeof(struct netif_tx_request), sizeof(struct netif_tx_response), n, reps);
    printf("%-12s %-6s %14s %16s %16s\n", "impl", "mode", "requests/s",
           "req notify/req", "rsp notify/req");
    for (int poll = 0; poll <= 1; poll++) {
        struct result ours, xen;

        if (measure(true, poll, n, reps, &ours) != 0 ||
            measure(false, poll, n, reps, &xen) != 0) {
            fprintf(stderr, "bench_ring: run failed\n");
            return 1;
        }
        printf("%-12s %-6s %14.0f %16.5f %16.5f\n", "xenfront", poll ? "poll" : "event",
               ours.rps, ours.req_notify, ours.rsp_notify);
        printf("%-12s %-6s %14.0f %16.5f %16.5f\n", "Xen macros", poll ? "poll" : "event",
               xen.rps, xen.req_notify, xen.rsp_notify);
        printf("%-12s %-6s %14.3f\n\n", "xenfront/Xen", poll ? "poll" : "event",
               ours.rps / xen.rps);
    }
    return 0;
}
