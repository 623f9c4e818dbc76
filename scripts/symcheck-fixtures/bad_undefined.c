/* Fixture for the pick-and-link check: a call to a function that is neither
 * a dependency, the platform seam nor an allowed memory function (malloc is
 * not allowed: memory comes through xf_plat_page_alloc). Must be rejected. */
#include <stddef.h>
void *malloc(size_t n);
void *xf_fixture_alloc(size_t n);
void *xf_fixture_alloc(size_t n) { return malloc(n); }
