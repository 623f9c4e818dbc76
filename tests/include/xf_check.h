/*
 * xf_check.h: what every libcheck test program of xenfront shares.
 *
 * Run a suite in libcheck's fork mode (so a crash or sanitizer report fails
 * one test, not the run) and turn its result into the exit status meson
 * expects. Output goes to TAP when meson sets CK_TAP_LOG_FILE_NAME=-.
 */
#ifndef XF_CHECK_H
#define XF_CHECK_H

#include <check.h>
#include <stdlib.h>

static inline int xf_check_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif /* XF_CHECK_H */
