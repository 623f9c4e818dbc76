/*
 * The test kernel's runtime: the memory functions the libraries need
 * (<xenfront/base.h>), the stack protector's guard, a small printf, and
 * output to port 0xE9 and the PV console.
 */
#include "kernel.h"

#include <xenfront/console.h>
#include <xenfront/platform.h>
#include <xenfront/pvh.h>

/* ------------------------------------------------------------------------
 * Memory functions. String instructions, so the compiler cannot turn a
 * loop here into a call to the function itself.
 */
void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    void *d = dst;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    if ((uintptr_t)dst <= (uintptr_t)src || (uintptr_t)dst >= (uintptr_t)src + n)
        return memcpy(dst, src, n);
    void *d = (char *)dst + n - 1;
    const void *s = (const char *)src + n - 1;
    __asm__ volatile("std; rep movsb; cld" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    void *d = dst;
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const volatile unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

int bcmp(const void *a, const void *b, size_t n);
int bcmp(const void *a, const void *b, size_t n)
{
    return memcmp(a, b, n);
}

size_t strlen(const char *s)
{
    const volatile char *p = s;
    size_t n = 0;
    while (p[n])
        n++;
    return n;
}

size_t kstrlcpy(char *dst, const char *src, size_t cap)
{
    size_t n = strlen(src);
    if (cap) {
        size_t c = n < cap - 1 ? n : cap - 1;
        memcpy(dst, src, c);
        dst[c] = 0;
    }
    return n;
}

int kstrncmp(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i])
            return (unsigned char)a[i] < (unsigned char)b[i] ? -1 : 1;
        if (!a[i])
            return 0;
    }
    return 0;
}

int kstrcmp(const char *a, const char *b)
{
    return kstrncmp(a, b, (size_t)-1);
}

const char *kstrstr(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (!kstrncmp(hay, needle, n))
            return hay;
    return n ? NULL : hay;
}

uint64_t kstrtou64(const char *s, const char **end)
{
    uint64_t v = 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (uint64_t)(*s++ - '0');
    if (end)
        *end = s;
    return v;
}

/* ------------------------------------------------------------------------
 * Stack protector (global guard: -mstack-protector-guard=global).
 */
uintptr_t __stack_chk_guard = 0x5a17c0de2b4d9e31ull;
__attribute__((noreturn)) void __stack_chk_fail(void);
__attribute__((noreturn)) void __stack_chk_fail(void)
{
    kputs("PANIC: stack protector\n");
    xf_pvh_shutdown(SHUTDOWN_crash);
}

/* ------------------------------------------------------------------------
 * printf: %s %c %d %u %x %p %% with l/ll/z, width and 0-padding.
 */
struct sink {
    char *buf;
    size_t cap, len;
};

static void put(struct sink *s, char c)
{
    if (s->len + 1 < s->cap)
        s->buf[s->len] = c;
    s->len++;
}

static void put_num(struct sink *s, uint64_t v, unsigned base, bool neg, int width, char pad)
{
    char tmp[24];
    int n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v);
    if (neg)
        tmp[n++] = '-';
    for (int i = n; i < width; i++)
        put(s, pad);
    while (n)
        put(s, tmp[--n]);
}

int kvsnprintf(char *buf, size_t cap, const char *fmt, va_list ap)
{
    struct sink s = { buf, cap, 0 };

    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(&s, *fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0, lng = 0;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l' || *fmt == 'z') {
            lng++;
            fmt++;
        }
        switch (*fmt) {
        case 's': {
            const char *str = va_arg(ap, const char *);
            if (!str)
                str = "(null)";
            while (*str)
                put(&s, *str++);
            break;
        }
        case 'c':
            put(&s, (char)va_arg(ap, int));
            break;
        case 'd': {
            int64_t v = lng ? va_arg(ap, long) : va_arg(ap, int);
            put_num(&s, v < 0 ? (uint64_t)-v : (uint64_t)v, 10, v < 0, width, pad);
            break;
        }
        case 'u':
        case 'x': {
            uint64_t v = lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int);
            put_num(&s, v, *fmt == 'u' ? 10 : 16, false, width, pad);
            break;
        }
        case 'p':
            put(&s, '0');
            put(&s, 'x');
            put_num(&s, (uintptr_t)va_arg(ap, void *), 16, false, 0, ' ');
            break;
        case '%':
            put(&s, '%');
            break;
        case 0:
            fmt--;
            break;
        default:
            put(&s, '%');
            put(&s, *fmt);
        }
    }
    if (cap)
        buf[s.len < cap ? s.len : cap - 1] = 0;
    return (int)s.len;
}

int ksnprintf(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

/* ------------------------------------------------------------------------
 * Output.
 */
static struct xf_console *out_con;

void kout_set_console(struct xf_console *con)
{
    out_con = con;
}

static void kwrite(const char *s, size_t n)
{
    xf_pvh_debug_write(s, n);
    if (out_con)
        (void)xf_console_write_all(out_con, s, n, xf_plat_now_ns() + 2000000000ull, NULL);
}

void kputs(const char *s)
{
    kwrite(s, strlen(s));
}

void kprintf(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    kwrite(buf, n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}
