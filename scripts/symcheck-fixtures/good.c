/* Fixture for the pick-and-link check: uses only the seam, a dependency
 * (xfcommon's xf_log) and memset. Must pass. */
#include <stddef.h>
#include <stdint.h>
uint64_t xf_plat_now_ns(void);
void xf_log(int level, const char *fmt, ...);
void *memset(void *d, int c, size_t n);
uint64_t xf_fixture_now(char *buf, size_t n);
uint64_t xf_fixture_now(char *buf, size_t n)
{
    memset(buf, 0, n);
    xf_log(0, "x");
    return xf_plat_now_ns();
}
