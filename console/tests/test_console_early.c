/*
 * Early output: the console_io hypercall first; on -EPERM (a release Xen,
 * the simulator's default for domUs) or -ENOSYS the embedder's hook, and
 * the refusal is remembered.
 */
#include "console_test.h"

static char hooked[4096];
static size_t hooked_len;
static unsigned hook_calls;

static long hook(void *arg, const char *buf, size_t len)
{
    ck_assert_ptr_eq(arg, hooked);
    ck_assert_uint_le(hooked_len + len, sizeof(hooked));
    memcpy(hooked + hooked_len, buf, len);
    hooked_len += len;
    hook_calls++;
    return (long)len;
}

static long failing_hook(void *arg, const char *buf, size_t len)
{
    (void)arg;
    (void)buf;
    (void)len;
    return -XF_EIO;
}

START_TEST(test_eperm_falls_back_to_hook)
{
    struct xf_console_early e = XF_CONSOLE_EARLY_INIT(hook, hooked);
    char big[1000];

    hooked_len = 0;
    hook_calls = 0;
    sim_start(NULL);
    /* The simulator refuses domUs, as a release build of Xen does. */
    ck_assert_int_eq(xf_plat_console_io(CONSOLEIO_write, 2, (char[]){ 'h', 'i' }), -XF_EPERM);
    ck_assert_int_eq(xf_console_early_write(&e, "hello\n", 6), 6);
    ck_assert_uint_eq(hooked_len, 6);
    ck_assert_mem_eq(hooked, "hello\n", 6);
    ck_assert_int_eq(e.hypercall_state, -XF_EPERM);
    /* Remembered: straight to the hook, all of it in one call. */
    memset(big, 'z', sizeof(big));
    ck_assert_int_eq(xf_console_early_write(&e, big, sizeof(big)), (long)sizeof(big));
    ck_assert_uint_eq(hooked_len, 6 + sizeof(big));
    ck_assert_uint_eq(hook_calls, 2);
    ck_assert_int_eq(xf_console_early_write(&e, "", 0), 0);
    ck_assert_int_eq(xf_console_early_write(&e, NULL, 1), -XF_EINVAL);
    ck_assert_int_eq(xf_console_early_write(NULL, "x", 1), -XF_EINVAL);
    sim_stop();
}
END_TEST

START_TEST(test_no_hook_reports_refusal)
{
    struct xf_console_early e = XF_CONSOLE_EARLY_INIT(NULL, NULL);
    struct xf_console_early f = XF_CONSOLE_EARLY_INIT(failing_hook, NULL);

    sim_start(NULL);
    ck_assert_int_eq(xf_console_early_write(&e, "lost?", 5), -XF_EPERM);
    ck_assert_int_eq(xf_console_early_write(&e, "lost?", 5), -XF_EPERM);
    ck_assert_int_eq(xf_console_early_write(&f, "x", 1), -XF_EIO);
    sim_stop();
}
END_TEST

/* A debug Xen accepts console_io from the guest: the hook is not used. */
START_TEST(test_hypercall_used_when_allowed)
{
    struct xf_sim_config cfg = { .guest_console_io = true };
    struct xf_console_early e = XF_CONSOLE_EARLY_INIT(hook, hooked);
    char big[700];

    hooked_len = 0;
    hook_calls = 0;
    sim_start(&cfg);
    ck_assert_int_eq(xf_console_early_write(&e, "from the guest\n", 15), 15);
    memset(big, 'q', sizeof(big));
    ck_assert_int_eq(xf_console_early_write(&e, big, sizeof(big)), (long)sizeof(big));
    ck_assert_int_eq(e.hypercall_state, 1);
    ck_assert_uint_eq(hook_calls, 0);
    ck_assert(logged("from the guest"));   /* Xen's console got it */
    sim_stop();
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("console-early");
    TCase *tc = tcase_create("early");

    tcase_add_test(tc, test_eperm_falls_back_to_hook);
    tcase_add_test(tc, test_no_hook_reports_refusal);
    tcase_add_test(tc, test_hypercall_used_when_allowed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return xf_check_run(suite());
}
