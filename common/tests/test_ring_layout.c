/*
 * The ring layer's view of the shared page against Xen's own io/ring.h: the
 * header layout, the entry geometry of every ring type libxen-dev defines,
 * the ring sizes, initialisation byte for byte, and that records put and
 * pushed through the layer land where Xen's macros put them. Also the
 * XF_E* numbers against the C library's.
 */
#include "ring_test_util.h"

#include <check.h>
#include "xf_check.h"

#include <xen/grant_table.h>
#include <xen/io/blkif.h>
#include <xen/io/cameraif.h>
#include <xen/io/displif.h>
#include <xen/io/fsif.h>
#include <xen/io/netif.h>
#include <xen/io/pvcalls.h>
#include <xen/io/sndif.h>
#include <xen/io/usbif.h>
#include <xen/io/vscsiif.h>

/* ------------------------------------------------- static layout checks */

/*
 * Every ring type in Xen's io/ headers must put its header fields and its
 * entries where the layer's generic header does: the layer addresses all of
 * them through struct xf_generic_sring.
 */
#define SAME_FIELD(T, f) \
    _Static_assert(offsetof(struct T##_sring, f) == \
                   offsetof(struct xf_generic_sring, f) && \
                   sizeof(((struct T##_sring *)0)->f) == \
                   sizeof(((struct xf_generic_sring *)0)->f), \
                   #T " ring field " #f " matches the layer's")

#define SAME_LAYOUT(T) \
    _Static_assert(XF_RING_HDR_SIZE == offsetof(struct T##_sring, ring), \
                   #T " entries start at XF_RING_HDR_SIZE"); \
    SAME_FIELD(T, req_prod); SAME_FIELD(T, req_event); \
    SAME_FIELD(T, rsp_prod); SAME_FIELD(T, rsp_event); \
    SAME_FIELD(T, pvt); SAME_FIELD(T, __pad)

SAME_LAYOUT(netif_tx);
SAME_LAYOUT(netif_rx);
SAME_LAYOUT(xen_netif_ctrl);
SAME_LAYOUT(blkif);
SAME_LAYOUT(fsif);
SAME_LAYOUT(vscsiif);
SAME_LAYOUT(usbif_urb);
SAME_LAYOUT(usbif_conn);
SAME_LAYOUT(xen_pvcalls);
SAME_LAYOUT(xen_sndif);
SAME_LAYOUT(xen_displif);
SAME_LAYOUT(xen_cameraif);
SAME_LAYOUT(rt);

/* The fixed numbers of the ABI, independent of any macro. */
_Static_assert(offsetof(struct xf_generic_sring, req_prod) == 0, "req_prod at 0");
_Static_assert(offsetof(struct xf_generic_sring, req_event) == 4, "req_event at 4");
_Static_assert(offsetof(struct xf_generic_sring, rsp_prod) == 8, "rsp_prod at 8");
_Static_assert(offsetof(struct xf_generic_sring, rsp_event) == 12, "rsp_event at 12");
_Static_assert(offsetof(struct xf_generic_sring, pvt) == 16, "pvt at 16");
_Static_assert(offsetof(struct xf_generic_sring, __pad) == 20, "__pad at 20");
_Static_assert(sizeof(union netif_tx_sring_entry) == 12, "netif tx entry is 12 bytes");
_Static_assert(sizeof(union blkif_sring_entry) == 112, "blkif entry is 112 bytes");
_Static_assert(__CONST_RING_SIZE(netif_tx, 4096) == 256, "netif tx ring holds 256");
_Static_assert(__CONST_RING_SIZE(blkif, 4096) == 32, "blkif ring holds 32");

/* ----------------------------------------------------- ring type table */

struct ring_type {
    const char *name;
    struct xf_ring_shape (*shape)(void); /* the layer's macro */
    uint32_t ent, req, rsp;           /* sizeof() measured independently */
    uint32_t const_size;              /* __CONST_RING_SIZE for one page */
    uint32_t (*xen_size)(void *page, size_t bytes); /* __RING_SIZE */
};

#define XEN_SIZE_FN(T) \
    static struct xf_ring_shape shape_##T(void) \
    { \
        return XF_RING_SHAPE(T); \
    } \
    static uint32_t xen_size_##T(void *page, size_t bytes) \
    { \
        struct T##_sring *s = page; \
        return (uint32_t)__RING_SIZE(s, bytes); \
    }

#define RING_TYPE(T, REQ, RSP) { \
    #T, shape_##T, \
    (uint32_t)sizeof(union T##_sring_entry), (uint32_t)sizeof(REQ), \
    (uint32_t)sizeof(RSP), (uint32_t)__CONST_RING_SIZE(T, 4096), \
    xen_size_##T }

XEN_SIZE_FN(netif_tx)
XEN_SIZE_FN(netif_rx)
XEN_SIZE_FN(xen_netif_ctrl)
XEN_SIZE_FN(blkif)
XEN_SIZE_FN(fsif)
XEN_SIZE_FN(vscsiif)
XEN_SIZE_FN(usbif_urb)
XEN_SIZE_FN(usbif_conn)
XEN_SIZE_FN(xen_pvcalls)
XEN_SIZE_FN(xen_sndif)
XEN_SIZE_FN(xen_displif)
XEN_SIZE_FN(xen_cameraif)
XEN_SIZE_FN(rt)

/*
 * Odd entry sizes, including ones that fill a page exactly (4032), do not
 * fit one page (4033) or are larger than a page (5000).
 */
#define SIZED_TYPE(N) \
    struct sz##N { uint8_t b[N]; }; \
    DEFINE_RING_TYPES(sz##N, struct sz##N, struct sz##N); \
    XEN_SIZE_FN(sz##N)

SIZED_TYPE(1)
SIZED_TYPE(3)
SIZED_TYPE(7)
SIZED_TYPE(100)
SIZED_TYPE(1000)
SIZED_TYPE(4032)
SIZED_TYPE(4033)
SIZED_TYPE(5000)

static const struct ring_type ring_types[] = {
    RING_TYPE(netif_tx, struct netif_tx_request, struct netif_tx_response),
    RING_TYPE(netif_rx, struct netif_rx_request, struct netif_rx_response),
    RING_TYPE(xen_netif_ctrl, struct xen_netif_ctrl_request, struct xen_netif_ctrl_response),
    RING_TYPE(blkif, struct blkif_request, struct blkif_response),
    RING_TYPE(fsif, struct fsif_request, struct fsif_response),
    RING_TYPE(vscsiif, struct vscsiif_request, struct vscsiif_response),
    RING_TYPE(usbif_urb, struct usbif_urb_request, struct usbif_urb_response),
    RING_TYPE(usbif_conn, struct usbif_conn_request, struct usbif_conn_response),
    RING_TYPE(xen_pvcalls, struct xen_pvcalls_request, struct xen_pvcalls_response),
    RING_TYPE(xen_sndif, struct xensnd_req, struct xensnd_resp),
    RING_TYPE(xen_displif, struct xendispl_req, struct xendispl_resp),
    RING_TYPE(xen_cameraif, struct xencamera_req, struct xencamera_resp),
    RING_TYPE(rt, struct rt_req, struct rt_rsp),
    RING_TYPE(sz1, struct sz1, struct sz1),
    RING_TYPE(sz3, struct sz3, struct sz3),
    RING_TYPE(sz7, struct sz7, struct sz7),
    RING_TYPE(sz100, struct sz100, struct sz100),
    RING_TYPE(sz1000, struct sz1000, struct sz1000),
    RING_TYPE(sz4032, struct sz4032, struct sz4032),
    RING_TYPE(sz4033, struct sz4033, struct sz4033),
    RING_TYPE(sz5000, struct sz5000, struct sz5000),
};

/* --------------------------------------------------------------- tests */

START_TEST(test_shapes_match_unions)
{
    for (size_t i = 0; i < XF_ARRAY_SIZE(ring_types); i++) {
        const struct ring_type *t = &ring_types[i];
        struct xf_ring_shape sh = t->shape();

        ck_assert_msg(sh.ent_size == t->ent && sh.req_size == t->req &&
                      sh.rsp_size == t->rsp,
                      "%s: XF_RING_SHAPE {%u,%u,%u} vs sizeof {%u,%u,%u}", t->name,
                      sh.ent_size, sh.req_size, sh.rsp_size,
                      t->ent, t->req, t->rsp);
    }
    ck_assert_uint_eq(XF_RING_HDR_SIZE, 64);
}
END_TEST

/* xf_ring_entries against __RING_SIZE on real srings of 1..2^MAX_ORDER pages. */
START_TEST(test_entries_match_xen)
{
    size_t max = (size_t)XF_PAGE_SIZE << XF_RING_MAX_ORDER;
    void *page = rt_pages(XF_RING_MAX_ORDER, 0);

    ck_assert_ptr_nonnull(page);
    for (size_t i = 0; i < XF_ARRAY_SIZE(ring_types); i++) {
        const struct ring_type *t = &ring_types[i];

        ck_assert_msg(xf_ring_entries(XF_PAGE_SIZE, t->ent) == t->const_size,
                      "%s: one page: %u vs __CONST_RING_SIZE %u", t->name,
                      xf_ring_entries(XF_PAGE_SIZE, t->ent), t->const_size);
        for (unsigned order = 0; order <= XF_RING_MAX_ORDER; order++) {
            size_t bytes = (size_t)XF_PAGE_SIZE << order;
            uint32_t ours = xf_ring_entries(bytes, t->ent);
            uint32_t xen = t->xen_size(page, bytes);

            ck_assert(bytes <= max);
            ck_assert_msg(ours == xen, "%s order %u: %u vs __RING_SIZE %u",
                          t->name, order, ours, xen);
            if (ours != 0) {
                /* A power of two that fits, and the next one would not. */
                ck_assert_uint_eq(ours & (ours - 1), 0);
                ck_assert_uint_le(XF_RING_HDR_SIZE + (size_t)ours * t->ent, bytes);
                ck_assert_uint_gt(XF_RING_HDR_SIZE + (size_t)ours * 2 * t->ent, bytes);
            }
        }
    }
    /* Every entry size, against Xen's own round-down macro. */
    for (uint32_t ent = 1; ent <= 5000; ent++) {
        for (unsigned order = 0; order <= XF_RING_MAX_ORDER; order++) {
            size_t bytes = (size_t)XF_PAGE_SIZE << order;
            uint32_t n = (uint32_t)((bytes - XF_RING_HDR_SIZE) / ent);

            ck_assert_msg(xf_ring_entries(bytes, ent) == (uint32_t)__RD32(n),
                          "ent %u order %u", ent, order);
        }
    }
    free(page);
}
END_TEST

START_TEST(test_entries_invalid)
{
    static const size_t bad_bytes[] = {
        0, 1, 64, 4095, 4097, 3 * 4096, 5 * 4096, 6 * 4096, 4096 * 3 / 2,
        (size_t)4096 << (XF_RING_MAX_ORDER + 1), (size_t)4096 << 20, SIZE_MAX,
        SIZE_MAX - 4095,
    };

    for (size_t i = 0; i < XF_ARRAY_SIZE(bad_bytes); i++)
        ck_assert_msg(xf_ring_entries(bad_bytes[i], 12) == 0, "bytes %zu", bad_bytes[i]);
    ck_assert_uint_eq(xf_ring_entries(4096, 0), 0);
    ck_assert_uint_eq(xf_ring_entries(4096, 4033), 0);
    ck_assert_uint_eq(xf_ring_entries(4096, UINT32_MAX), 0);
    ck_assert_uint_eq(xf_ring_entries(4096, 4032), 1);
    ck_assert_uint_eq(xf_ring_entries(8192, 4033), 2);
}
END_TEST

START_TEST(test_init_bad_args)
{
    void *page = rt_pages(1, 0);
    struct xf_ring_shape ok = XF_RING_SHAPE(netif_tx);
    struct xf_ring_shape s;
    struct xf_front_ring f;
    struct xf_back_ring b;

    ck_assert_ptr_nonnull(page);
    ck_assert_int_eq(xf_front_ring_init(NULL, page, 4096, ok), -XF_EINVAL);
    ck_assert_int_eq(xf_front_ring_init(&f, NULL, 4096, ok), -XF_EINVAL);
    ck_assert_int_eq(xf_front_ring_init(&f, (char *)page + 64, 4096, ok), -XF_EINVAL);
    ck_assert_int_eq(xf_front_ring_init(&f, (char *)page + 2048, 4096, ok), -XF_EINVAL);
    ck_assert_int_eq(xf_front_ring_init(&f, page, 0, ok), -XF_EINVAL);
    ck_assert_int_eq(xf_front_ring_init(&f, page, 4095, ok), -XF_EINVAL);
    ck_assert_int_eq(xf_front_ring_init(&f, page, 3 * 4096, ok), -XF_EINVAL);
    s = ok; s.ent_size = 0;
    ck_assert_int_eq(xf_front_ring_init(&f, page, 4096, s), -XF_EINVAL);
    s = ok; s.req_size = 0;
    ck_assert_int_eq(xf_front_ring_init(&f, page, 4096, s), -XF_EINVAL);
    s = ok; s.rsp_size = 0;
    ck_assert_int_eq(xf_front_ring_init(&f, page, 4096, s), -XF_EINVAL);
    s = ok; s.req_size = ok.ent_size + 1;
    ck_assert_int_eq(xf_front_ring_init(&f, page, 4096, s), -XF_EINVAL);
    s = ok; s.rsp_size = ok.ent_size + 1;
    ck_assert_int_eq(xf_front_ring_init(&f, page, 4096, s), -XF_EINVAL);
    s = (struct xf_ring_shape){ 4033, 4033, 4033 }; /* no entry fits */
    ck_assert_int_eq(xf_front_ring_init(&f, page, 4096, s), -XF_EINVAL);
    ck_assert_int_eq(xf_front_ring_attach(&f, page, 4095, ok, 7), -XF_EINVAL);
    ck_assert_int_eq(xf_back_ring_init(NULL, page, 4096, ok), -XF_EINVAL);
    ck_assert_int_eq(xf_back_ring_init(&b, page, 4097, ok), -XF_EINVAL);
    ck_assert_int_eq(xf_back_ring_init(&b, (char *)page + 8, 4096, ok), -XF_EINVAL);
    s = ok; s.req_size = 0;
    ck_assert_int_eq(xf_back_ring_attach(&b, page, 4096, s, 0), -XF_EINVAL);

    /* A rejected init leaves the shared page alone. */
    for (size_t i = 0; i < 2 * XF_PAGE_SIZE; i++)
        ck_assert_uint_eq(((unsigned char *)page)[i], 0);

    /* And the accepted ones, for contrast. */
    ck_assert_int_eq(xf_front_ring_init(&f, page, 8192, ok), 0);
    ck_assert_uint_eq(xf_front_ring_size(&f), 512);
    ck_assert_int_eq(xf_back_ring_init(&b, page, 8192, ok), 0);
    ck_assert_uint_eq(xf_back_ring_size(&b), 512);
    free(page);
}
END_TEST

/* Every XF_E* is the C library's number (Linux numbering on this host). */
START_TEST(test_errno_values)
{
#define SAME_ERRNO(e) ck_assert_msg(XF_##e == e, #e ": XF %d libc %d", XF_##e, e)
    SAME_ERRNO(EINTR); SAME_ERRNO(EPERM); SAME_ERRNO(ENOENT); SAME_ERRNO(ESRCH);
    SAME_ERRNO(EIO); SAME_ERRNO(ENXIO); SAME_ERRNO(E2BIG); SAME_ERRNO(EBADF);
    SAME_ERRNO(EAGAIN); SAME_ERRNO(ENOMEM); SAME_ERRNO(EACCES); SAME_ERRNO(EFAULT);
    SAME_ERRNO(EBUSY); SAME_ERRNO(EEXIST); SAME_ERRNO(ENODEV); SAME_ERRNO(EINVAL);
    SAME_ERRNO(ENOSPC); SAME_ERRNO(EROFS); SAME_ERRNO(ERANGE);
    SAME_ERRNO(ENAMETOOLONG); SAME_ERRNO(ENOSYS); SAME_ERRNO(ENOTEMPTY);
    SAME_ERRNO(ENODATA); SAME_ERRNO(EBADMSG); SAME_ERRNO(EOVERFLOW);
    SAME_ERRNO(EMSGSIZE); SAME_ERRNO(EOPNOTSUPP); SAME_ERRNO(ENOBUFS);
    SAME_ERRNO(EISCONN); SAME_ERRNO(ENOTCONN); SAME_ERRNO(ETIMEDOUT);
    SAME_ERRNO(EPROTO);
#undef SAME_ERRNO
    ck_assert_int_eq(XF_EPROTO, 71);
}
END_TEST

/*
 * xf_front_ring_init leaves the page exactly as XEN_FRONT_RING_INIT does
 * (both over pages full of garbage, so a forgotten field shows), and the
 * front and back contexts see Xen's ring size.
 */
static void check_init_matches(unsigned order, struct xf_ring_shape shape, int garbage)
{
    size_t bytes = (size_t)XF_PAGE_SIZE << order;
    unsigned char *ours = rt_pages(order, garbage);
    unsigned char *xen = rt_pages(order, garbage);
    struct xf_front_ring f;
    struct xf_back_ring b;
    struct xf_generic_front_ring xf;
    struct xf_generic_back_ring xb;

    ck_assert_ptr_nonnull(ours);
    ck_assert_ptr_nonnull(xen);
    ck_assert_int_eq(xf_front_ring_init(&f, ours, bytes, shape), 0);
    XEN_FRONT_RING_INIT(&xf, (struct xf_generic_sring *)xen, bytes);
    BACK_RING_INIT(&xb, (struct xf_generic_sring *)xen, bytes);
    ck_assert_int_eq(xf_back_ring_init(&b, ours, bytes, shape), 0);

    ck_assert_msg(memcmp(ours, xen, XF_RING_HDR_SIZE) == 0,
                  "header after init differs (order %u, ent %u)", order, shape.ent_size);
    ck_assert_msg(memcmp(ours, xen, bytes) == 0, "init touched the entries");
    ck_assert_uint_eq(((struct xf_generic_sring *)ours)->req_event, 1);
    ck_assert_uint_eq(((struct xf_generic_sring *)ours)->rsp_event, 1);
    ck_assert_uint_eq(xf_front_ring_size(&f), xf_ring_entries(bytes, shape.ent_size));
    ck_assert_uint_eq(xf_back_ring_size(&b), xf_front_ring_size(&f));
    ck_assert_uint_eq(xf_front_ring_free(&f), xf_front_ring_size(&f));
    ck_assert_uint_eq(xf_front_ring_outstanding(&f), 0);
    ck_assert_int_eq(xf_front_ring_error(&f), 0);
    free(ours);
    free(xen);
}

START_TEST(test_init_bytes_match_xen)
{
    for (unsigned order = 0; order <= 4; order++) {
        check_init_matches(order, XF_RING_SHAPE(netif_tx), 0xcc);
        check_init_matches(order, XF_RING_SHAPE(netif_rx), 0x00);
        check_init_matches(order, XF_RING_SHAPE(blkif), 0xff);
        check_init_matches(order, XF_RING_SHAPE(rt), 0x5a);
    }
    /* Xen's sizes through its own typed macros, for the two main rings. */
    {
        void *p = rt_pages(0, 0);
        netif_tx_front_ring_t tx;
        blkif_front_ring_t blk;
        struct xf_front_ring f;

        ck_assert_ptr_nonnull(p);
        XEN_FRONT_RING_INIT(&tx, (netif_tx_sring_t *)p, XF_PAGE_SIZE);
        ck_assert_int_eq(xf_front_ring_init(&f, p, XF_PAGE_SIZE, XF_RING_SHAPE(netif_tx)), 0);
        ck_assert_uint_eq(xf_front_ring_size(&f), RING_SIZE(&tx));
        XEN_FRONT_RING_INIT(&blk, (blkif_sring_t *)p, XF_PAGE_SIZE);
        ck_assert_int_eq(xf_front_ring_init(&f, p, XF_PAGE_SIZE, XF_RING_SHAPE(blkif)), 0);
        ck_assert_uint_eq(xf_front_ring_size(&f), RING_SIZE(&blk));
        free(p);
    }
}
END_TEST

/*
 * Requests put and pushed through the layer, then answered through the
 * layer's back end, leave the page byte for byte as Xen's macros doing the
 * same on a second page: same slots, same indices, same event fields.
 */
static void check_ops_match(unsigned order)
{
    size_t bytes = (size_t)XF_PAGE_SIZE << order;
    unsigned char *ours = rt_pages(order, 0xa5);
    unsigned char *xen = rt_pages(order, 0xa5);
    struct xf_front_ring f;
    struct xf_back_ring b;
    netif_tx_front_ring_t xf;
    netif_tx_back_ring_t xb;
    uint64_t rng = 0x1234 + order;
    unsigned n = 0;

    ck_assert_ptr_nonnull(ours);
    ck_assert_ptr_nonnull(xen);
    ck_assert_int_eq(xf_front_ring_init(&f, ours, bytes, XF_RING_SHAPE(netif_tx)), 0);
    ck_assert_int_eq(xf_back_ring_init(&b, ours, bytes, XF_RING_SHAPE(netif_tx)), 0);
    XEN_FRONT_RING_INIT(&xf, (netif_tx_sring_t *)xen, bytes);
    BACK_RING_INIT(&xb, (netif_tx_sring_t *)xen, bytes);

    /* Three rounds that together wrap the ring at least once. */
    for (int round = 0; round < 3; round++) {
        unsigned batch = RING_SIZE(&xf) / 2 + 3 + (unsigned)round;
        bool n1, n2;
        int more1;
        unsigned more2;

        for (unsigned i = 0; i < batch && !RING_FULL(&xf); i++, n++) {
            struct netif_tx_request q;

            rt_fill(&rng, &q, sizeof(q));
            ck_assert_int_eq(xf_front_ring_put_request(&f, &q), 0);
            *RING_GET_REQUEST(&xf, xf.req_prod_pvt) = q;
            xf.req_prod_pvt++;
        }
        n1 = xf_front_ring_push(&f);
        RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&xf, n2);
        ck_assert_int_eq(n1, n2);
        ck_assert_msg(memcmp(ours, xen, bytes) == 0, "round %d: requests differ", round);

        for (;;) {
            struct netif_tx_request q1, q2;
            struct netif_tx_response p;
            int rc = xf_back_ring_get_request(&b, &q1);

            if (rc == 0)
                break;
            ck_assert_int_eq(rc, 1);
            ck_assert(RING_HAS_UNCONSUMED_REQUESTS(&xb));
            RING_COPY_REQUEST(&xb, xb.req_cons, &q2);
            xb.req_cons++;
            ck_assert(memcmp(&q1, &q2, sizeof(q1)) == 0);
            p.id = q1.id;
            p.status = (int16_t)(q1.size & 0x7fff);
            ck_assert_int_eq(xf_back_ring_put_response(&b, &p), 0);
            *RING_GET_RESPONSE(&xb, xb.rsp_prod_pvt) = p;
            xb.rsp_prod_pvt++;
        }
        ck_assert(!RING_HAS_UNCONSUMED_REQUESTS(&xb));
        n1 = xf_back_ring_push(&b);
        RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&xb, n2);
        ck_assert_int_eq(n1, n2);
        more1 = xf_back_ring_final_check(&b);
        RING_FINAL_CHECK_FOR_REQUESTS(&xb, more2);
        ck_assert_int_eq(more1, (int)more2);
        ck_assert_msg(memcmp(ours, xen, bytes) == 0, "round %d: responses differ", round);

        while (xf_front_ring_get_response(&f, &(struct netif_tx_response){ 0, 0 }) == 1)
            xf.rsp_cons++;
        ck_assert_uint_eq(xf.rsp_cons, xf.sring->rsp_prod);
        more1 = xf_front_ring_final_check(&f);
        RING_FINAL_CHECK_FOR_RESPONSES(&xf, more2);
        ck_assert_int_eq(more1, (int)more2);
        ck_assert_msg(memcmp(ours, xen, bytes) == 0, "round %d: events differ", round);
    }
    ck_assert_uint_gt(n, RING_SIZE(&xf));
    free(ours);
    free(xen);
}

START_TEST(test_ops_bytes_match_xen)
{
    for (unsigned order = 0; order <= 4; order++)
        check_ops_match(order);
}
END_TEST

static Suite *layout_suite(void)
{
    Suite *s = suite_create("ring_layout");
    TCase *tc = tcase_create("layout");

    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_shapes_match_unions);
    tcase_add_test(tc, test_entries_match_xen);
    tcase_add_test(tc, test_entries_invalid);
    tcase_add_test(tc, test_init_bad_args);
    tcase_add_test(tc, test_errno_values);
    tcase_add_test(tc, test_init_bytes_match_xen);
    tcase_add_test(tc, test_ops_bytes_match_xen);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return xf_check_run(layout_suite());
}
