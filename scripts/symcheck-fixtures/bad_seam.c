/* Fixture for the pick-and-link check: a library defining a seam function,
 * which would clash with the embedder's. Must be rejected. */
#include <stdint.h>
uint64_t xf_plat_now_ns(void);
uint64_t xf_plat_now_ns(void) { return 0; }
