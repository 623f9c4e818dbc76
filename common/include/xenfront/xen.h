/*
 * xenfront/xen.h: the one configured inclusion of Xen's public headers.
 *
 * Every xenfront source includes Xen's ABI through this file and never
 * directly, because the headers only come out right with three things done
 * first (measured on libxen-dev 4.17; see also docs/ARCHITECTURE.md):
 *
 *  - <stdint.h> and <stddef.h> must precede them (they use uint32_t and,
 *    through __CONST_RING_SIZE, offsetof) but do not include them;
 *  - __XEN_INTERFACE_VERSION__ must be set, or it silently defaults to 0:
 *    ring.h then maps xen_mb() to an undefined mb() and grant_table.h hides
 *    grant_entry_v2_t;
 *  - xen_mb(), xen_rmb() and xen_wmb() must be defined before io/ring.h.
 *    Missing, gcc stays quiet through a system include path and the error
 *    only shows as an undefined reference at link time.
 *
 * The barriers come from <xenfront/barrier.h>, included here first.
 */
#ifndef XENFRONT_XEN_H
#define XENFRONT_XEN_H

#include <stdint.h>
#include <stddef.h>

#ifndef __XEN_INTERFACE_VERSION__
#define __XEN_INTERFACE_VERSION__ 0x00040e00
#endif
#if __XEN_INTERFACE_VERSION__ < 0x00040e00
#error "xenfront needs Xen interface version 0x00040e00 (Xen 4.14) or later"
#endif

#include <xenfront/barrier.h>

#include <xen/xen.h>
#include <xen/errno.h>
#include <xen/event_channel.h>
#include <xen/features.h>
#include <xen/grant_table.h>
#include <xen/memory.h>
#include <xen/sched.h>
#include <xen/version.h>
#include <xen/vcpu.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/io/ring.h>

#if defined(__x86_64__) || defined(__i386__)
#include <xen/arch-x86/hvm/start_info.h>
#endif

/* Xen's ring protocols always use 4 KiB pages, whatever the CPU's page size. */
#define XF_PAGE_SHIFT 12
#define XF_PAGE_SIZE  (1u << XF_PAGE_SHIFT)

_Static_assert(XEN_PAGE_SHIFT == XF_PAGE_SHIFT, "Xen ring pages are 4 KiB");
_Static_assert(sizeof(RING_IDX) == 4, "RING_IDX is 32 bits in the ABI");
_Static_assert(sizeof(domid_t) == 2, "domid_t is 16 bits in the ABI");
_Static_assert(sizeof(grant_ref_t) == 4, "grant_ref_t is 32 bits in the ABI");
_Static_assert(sizeof(evtchn_port_t) == 4, "evtchn_port_t is 32 bits in the ABI");
_Static_assert(sizeof(grant_entry_v1_t) == 8, "v1 grant entries are 8 bytes");
#if defined(__x86_64__)
_Static_assert(sizeof(xen_ulong_t) == 8, "2-level event words are 64 bits on x86_64");
_Static_assert(sizeof(struct vcpu_info) == 64, "vcpu_info is 64 bytes on x86_64");
_Static_assert(sizeof(struct shared_info) <= XF_PAGE_SIZE, "shared_info fits a page");
#endif

#endif /* XENFRONT_XEN_H */
