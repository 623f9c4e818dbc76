/*
 * The response-id table: the lifecycle, every hostile id a back end can
 * echo (unknown, duplicate, not yet published, out of range at any
 * width), and a million random operations against a reference model.
 */
#include "ring_test_util.h"
#include "xf_check.h"

#include <xenfront/idtable.h>

#define N 64

static struct xf_idtable t;
static struct xf_idtable_slot slots[N];

static void setup(void)
{
    ck_assert_int_eq(xf_idtable_init(&t, slots, N), 0);
}

START_TEST(lifecycle)
{
    int cookie;
    void *c = NULL;
    int32_t id = xf_idtable_alloc(&t, &cookie);

    ck_assert_int_ge(id, 0);
    ck_assert_uint_eq(xf_idtable_free(&t), N - 1);
    ck_assert_int_eq(xf_idtable_state(&t, (uint32_t)id), XF_ID_RESERVED);
    ck_assert_int_eq(xf_idtable_publish(&t, (uint32_t)id), 0);
    ck_assert_uint_eq(xf_idtable_published(&t), 1);
    ck_assert_int_eq(xf_idtable_lookup(&t, (uint32_t)id, &c), 0);
    ck_assert_ptr_eq(c, &cookie);
    c = NULL;
    ck_assert_int_eq(xf_idtable_complete(&t, (uint32_t)id, &c), 0);
    ck_assert_ptr_eq(c, &cookie);
    ck_assert_uint_eq(xf_idtable_free(&t), N);
    ck_assert_uint_eq(xf_idtable_published(&t), 0);
}
END_TEST

START_TEST(hostile_ids_change_nothing)
{
    int32_t a = xf_idtable_alloc(&t, NULL), b = xf_idtable_alloc(&t, NULL);
    void *c = (void *)&t;

    ck_assert_int_eq(xf_idtable_publish(&t, (uint32_t)a), 0);
    /* not yet published */
    ck_assert_int_eq(xf_idtable_complete(&t, (uint32_t)b, &c), -XF_EPROTO);
    /* never allocated */
    ck_assert_int_eq(xf_idtable_complete(&t, 40, &c), -XF_EPROTO);
    /* out of range, at every width a back end can write */
    ck_assert_int_eq(xf_idtable_complete(&t, N, &c), -XF_EPROTO);
    ck_assert_int_eq(xf_idtable_complete(&t, 0xffffu, &c), -XF_EPROTO);
    ck_assert_int_eq(xf_idtable_complete(&t, UINT64_MAX, &c), -XF_EPROTO);
    ck_assert_int_eq(xf_idtable_complete(&t, (uint64_t)a + ((uint64_t)1 << 32), &c),
                     -XF_EPROTO);
    ck_assert_int_eq(xf_idtable_lookup(&t, (uint32_t)b, &c), -XF_EPROTO);
    ck_assert_ptr_eq(c, (void *)&t);               /* untouched on error */
    ck_assert_uint_eq(xf_idtable_free(&t), N - 2);
    ck_assert_uint_eq(xf_idtable_published(&t), 1);
    /* the real answer, then the same answer again (a duplicate) */
    ck_assert_int_eq(xf_idtable_complete(&t, (uint32_t)a, NULL), 0);
    ck_assert_int_eq(xf_idtable_complete(&t, (uint32_t)a, NULL), -XF_EPROTO);
    ck_assert_uint_eq(xf_idtable_free(&t), N - 1);
    ck_assert_int_eq(xf_idtable_state(&t, (uint32_t)b), XF_ID_RESERVED);
}
END_TEST

START_TEST(exhaustion_and_fifo_reuse)
{
    int32_t ids[N];

    for (int i = 0; i < N; i++) {
        ids[i] = xf_idtable_alloc(&t, NULL);
        ck_assert_int_eq(ids[i], i);
    }
    ck_assert_int_eq(xf_idtable_alloc(&t, NULL), -XF_ENOSPC);
    ck_assert_int_eq(xf_idtable_cancel(&t, 5), 0);
    ck_assert_int_eq(xf_idtable_cancel(&t, 5), -XF_EINVAL);
    ck_assert_int_eq(xf_idtable_publish(&t, 9), 0);
    ck_assert_int_eq(xf_idtable_complete(&t, 9, NULL), 0);
    /* oldest freed first: 5, then 9 */
    ck_assert_int_eq(xf_idtable_alloc(&t, NULL), 5);
    ck_assert_int_eq(xf_idtable_alloc(&t, NULL), 9);
    ck_assert_int_eq(xf_idtable_alloc(&t, NULL), -XF_ENOSPC);
}
END_TEST

START_TEST(unpublish_and_walk)
{
    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(xf_idtable_alloc(&t, NULL), i);
        if (i % 2 == 0)
            ck_assert_int_eq(xf_idtable_publish(&t, (uint32_t)i), 0);
    }
    ck_assert_int_eq(xf_idtable_next(&t, 0, XF_ID_STATE_BIT(XF_ID_PUBLISHED)), 0);
    ck_assert_int_eq(xf_idtable_next(&t, 1, XF_ID_STATE_BIT(XF_ID_PUBLISHED)), 2);
    ck_assert_int_eq(xf_idtable_next(&t, 9, XF_ID_STATE_BIT(XF_ID_PUBLISHED)), -XF_ENOENT);
    ck_assert_int_eq(xf_idtable_next(&t, 0, XF_ID_STATE_BIT(XF_ID_RESERVED)), 1);
    ck_assert_int_eq(xf_idtable_unpublish(&t, 4), 0);
    ck_assert_int_eq(xf_idtable_unpublish(&t, 4), -XF_EINVAL);
    ck_assert_int_eq(xf_idtable_complete(&t, 4, NULL), -XF_EPROTO);  /* taken back */
    ck_assert_int_eq(xf_idtable_publish(&t, 4), 0);                  /* reissued */
    ck_assert_int_eq(xf_idtable_complete(&t, 4, NULL), 0);
    ck_assert_uint_eq(xf_idtable_published(&t), 4);
    ck_assert_int_eq(xf_idtable_init(&t, slots, 0), -XF_EINVAL);
    ck_assert_int_eq(xf_idtable_init(&t, NULL, 4), -XF_EINVAL);
}
END_TEST

/* Random operations, random (often hostile) ids, against a plain model:
 * every answer and every count must agree. */
START_TEST(random_against_model)
{
    uint8_t model[N] = { 0 };
    uint32_t fifo[N], head = 0, tail = 0, nfree = N;
    uint64_t seed = 99, n = rt_iters(1000000);

    for (uint32_t i = 0; i < N; i++)
        fifo[i] = i;
    tail = 0;                                      /* fifo full: head == tail, nfree N */
    for (uint64_t k = 0; k < n; k++) {
        uint64_t id = rt_below(&seed, 8) == 0 ? rt_rand(&seed) : rt_below(&seed, N + 2);
        uint8_t st = id < N ? model[id] : XF_ID_FREE;
        int rc;

        switch (rt_below(&seed, 5)) {
        case 0: {
            int32_t got = xf_idtable_alloc(&t, NULL);

            if (nfree == 0) {
                ck_assert_int_eq(got, -XF_ENOSPC);
            } else {
                ck_assert_int_eq(got, (int32_t)fifo[head]);
                head = (head + 1) % N;
                nfree--;
                model[got] = XF_ID_RESERVED;
            }
            break;
        }
        case 1:
            rc = xf_idtable_publish(&t, (uint32_t)id);
            ck_assert_int_eq(rc, id < N && st == XF_ID_RESERVED ? 0 : -XF_EINVAL);
            if (rc == 0)
                model[id] = XF_ID_PUBLISHED;
            break;
        case 2:
            rc = xf_idtable_complete(&t, id, NULL);
            ck_assert_int_eq(rc, st == XF_ID_PUBLISHED ? 0 : -XF_EPROTO);
            if (rc == 0) {
                model[id] = XF_ID_FREE;
                fifo[tail] = (uint32_t)id;
                tail = (tail + 1) % N;
                nfree++;
            }
            break;
        case 3:
            rc = xf_idtable_cancel(&t, (uint32_t)id);
            ck_assert_int_eq(rc, id < N && st == XF_ID_RESERVED ? 0 : -XF_EINVAL);
            if (rc == 0) {
                model[id] = XF_ID_FREE;
                fifo[tail] = (uint32_t)id;
                tail = (tail + 1) % N;
                nfree++;
            }
            break;
        default:
            rc = xf_idtable_unpublish(&t, (uint32_t)id);
            ck_assert_int_eq(rc, id < N && st == XF_ID_PUBLISHED ? 0 : -XF_EINVAL);
            if (rc == 0)
                model[id] = XF_ID_RESERVED;
            break;
        }
        ck_assert_uint_eq(xf_idtable_free(&t), nfree);
    }
    {
        uint32_t pub = 0;

        for (int i = 0; i < N; i++) {
            ck_assert_int_eq(xf_idtable_state(&t, (uint32_t)i), model[i]);
            pub += model[i] == XF_ID_PUBLISHED;
        }
        ck_assert_uint_eq(xf_idtable_published(&t), pub);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("idtable");
    TCase *tc = tcase_create("idtable");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, lifecycle);
    tcase_add_test(tc, hostile_ids_change_nothing);
    tcase_add_test(tc, exhaustion_and_fifo_reuse);
    tcase_add_test(tc, unpublish_and_walk);
    tcase_add_test(tc, random_against_model);
    suite_add_tcase(s, tc);
    return xf_check_run(s);
}
