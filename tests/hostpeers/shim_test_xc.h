#ifndef XF_SHIM_TEST_XC_H
#define XF_SHIM_TEST_XC_H
#include <stdint.h>
/* xc_domain_getinfo through the shim: the domids found (at most 8). */
int shim_test_domains(uint32_t first, unsigned int max, uint32_t *domids, int *running);
#endif
