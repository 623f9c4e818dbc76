/*
 * xenfront/base.h: what every xenfront source needs and nothing more.
 *
 * Freestanding headers only (stdint, stddef, stdbool, stdarg). The four
 * memory functions below are the only C library functions the libraries
 * call; the compiler may also emit calls to them on its own, even with
 * -ffreestanding. A kernel provides them; the prototypes are the standard
 * ones, so a kernel's own <string.h> agrees with them. (clang may also turn
 * memcmp() == 0 into a call to bcmp(), with memcmp's arguments.)
 */
#ifndef XENFRONT_BASE_H
#define XENFRONT_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if __STDC_HOSTED__
#include <string.h>
#else
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
#endif

#define XF_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define XF_LIKELY(x)     __builtin_expect(!!(x), 1)
#define XF_UNLIKELY(x)   __builtin_expect(!!(x), 0)
#define XF_UNUSED        __attribute__((unused))
#define XF_MUST_CHECK    __attribute__((warn_unused_result))
#define XF_PRINTF(f, a)  __attribute__((format(printf, f, a)))

#endif /* XENFRONT_BASE_H */
