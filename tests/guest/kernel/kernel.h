/* The xenfront PVH test kernel: its small runtime (klib.c) and tests. */
#ifndef XF_TEST_KERNEL_H
#define XF_TEST_KERNEL_H

#include <xenfront/base.h>

struct xf_console;

/* Output: every byte to port 0xE9; also to the PV console once one is set. */
void kout_set_console(struct xf_console *con);
void kputs(const char *s);
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ksnprintf(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int kvsnprintf(char *buf, size_t cap, const char *fmt, va_list ap);

size_t kstrlcpy(char *dst, const char *src, size_t cap);
int kstrcmp(const char *a, const char *b);
int kstrncmp(const char *a, const char *b, size_t n);
const char *kstrstr(const char *hay, const char *needle);
uint64_t kstrtou64(const char *s, const char **end);

#endif
