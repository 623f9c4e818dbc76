/*
 * console/src/early_e9.c: the x86 debug port hook for early output. Xen
 * (and QEMU with -debugcon) print what an HVM/PVH guest writes to I/O port
 * 0xE9. Its own object, so that a kernel that never names it links none
 * of it.
 */
#include <xenfront/console.h>

#if defined(__x86_64__) || defined(__i386__)
long xf_console_early_port_e9(void *arg, const char *buf, size_t len)
{
    (void)arg;
    for (size_t i = 0; i < len; i++)
        __asm__ __volatile__("outb %0, %1" : : "a"(buf[i]), "Nd"((uint16_t)0xe9));
    return (long)len;
}
#else
/* ISO C forbids an empty translation unit. */
typedef int xf_console_no_port_e9;
#endif
