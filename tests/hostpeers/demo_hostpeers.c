/*
 * The front ends talking to real Xen back ends: Debian's unmodified
 * xenstored and xenconsoled run on this host as dom0 of the simulator
 * (through the preloaded shim), and this process is the guest. Narrated.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenfront/console.h>
#include <xenfront/errno.h>
#include <xenfront/evtchn.h>
#include <xenfront/xenbus.h>

#include "hp.h"

#define SOON(ms) (xf_plat_now_ns() + (uint64_t)(ms) * 1000000u)

static struct hp hp;

static void upcall(void *arg, unsigned int vcpu)
{
    (void)vcpu;
    xf_evtchn_dispatch(arg, 0);
}

static int fail(const char *what, int rc)
{
    fprintf(stderr, "demo: %s failed: %d\n", what, rc);
    hp_cleanup_failed();
    return 1;
}

int main(void)
{
    const char *why = "";
    struct xf_evtchn *ec = NULL;
    struct xf_xenbus *xb = NULL;
    struct xf_console *con = NULL;
    char buf[256], p[128];
    size_t len;
    uint64_t pfn;
    evtchn_port_t port;
    int rc;

    printf("== Real back ends: xenstored and xenconsoled (Debian xen-utils-4.17) ==\n");
    if ((rc = hp_up(&hp, &why)) < 0 || (rc = hp_start_xenstored(&hp, &why)) < 0) {
        fprintf(stderr, "demo: %s\n", why);
        return fail("starting xenstored", rc);
    }
    printf("xenstored (pid %d) runs unmodified as dom0 of the simulator, through the shim.\n",
           (int)hp.xenstored.pid);
    if ((rc = hp_introduce(&hp, "xenconsoled", &why)) < 0) {
        fprintf(stderr, "demo: %s\n", why);
        return fail("introducing the guest", rc);
    }
    printf("The toolstack (libxenstore) made /local/domain/%u and sent XS_INTRODUCE:\n"
           "xenstored mapped the guest's store page by grant ref 1 and bound its port.\n",
           hp.domid);
    if ((rc = hp_start_xenconsoled(&hp, &why)) < 0) {
        fprintf(stderr, "demo: %s\n", why);
        return fail("starting xenconsoled", rc);
    }
    snprintf(p, sizeof(p), "/local/domain/%u/console/tty", hp.domid);
    hp_xs_read(&hp, p, buf, sizeof(buf));
    printf("xenconsoled (pid %d) mapped the console page and gave it the pty %s.\n\n",
           (int)hp.xenconsoled.pid, buf);

    /* The guest: event channels with upcalls, then libxenbus on its ring. */
    if ((rc = xf_evtchn_create(&ec, NULL)) < 0)
        return fail("xf_evtchn_create", rc);
    xf_sim_set_upcall_handler(hp.sim, hp.domid, upcall, ec);
    if ((rc = xf_evtchn_upcall_setup(ec, XF_EVTCHN_UPCALL_AUTO, 0xf3)) < 0 ||
        (rc = xf_xenbus_hvm_store(&pfn, &port)) < 0)
        return fail("guest set-up", rc);
    rc = xf_xenbus_create_ring(&xb, NULL, ec, xf_sim_gfn_to_va(hp.sim, hp.domid, pfn), port);
    if (rc < 0)
        return fail("xf_xenbus_create_ring", rc);
    printf("guest: libxenbus on the store ring (frame %llu, port %u)\n",
           (unsigned long long)pfn, port);
    if ((rc = xf_xenbus_read(xb, 0, "name", buf, sizeof(buf), &len, SOON(5000))) < 0)
        return fail("read name", rc);
    printf("guest: read \"name\" (relative path) -> \"%s\"\n", buf);
    if ((rc = xf_xenbus_write(xb, 0, "data/greeting", "hello, xenstored", 16, SOON(5000))) < 0)
        return fail("write", rc);
    snprintf(p, sizeof(p), "/local/domain/%u/data/greeting", hp.domid);
    hp_xs_read(&hp, p, buf, sizeof(buf));
    printf("guest: wrote data/greeting; dom0's libxenstore reads %s = \"%s\"\n", p, buf);
    rc = xf_xenbus_read(xb, 0, "/local/domain/0/name", buf, sizeof(buf), &len, SOON(5000));
    printf("guest: read /local/domain/0/name -> %s (xenstored enforces permissions)\n\n",
           rc == -XF_EACCES ? "EACCES" : rc == -XF_ENOENT ? "ENOENT" : "?");

    /* The primary console. */
    if ((rc = xf_console_hvm_params(&pfn, &port)) < 0 ||
        (rc = xf_console_create(&con, ec, xf_sim_gfn_to_va(hp.sim, hp.domid, pfn), port,
                                NULL)) < 0)
        return fail("console", rc);
    const char *msg = "Hello from the xenfront guest, via xenconsoled!\n";
    if ((rc = xf_console_write_all(con, msg, strlen(msg), SOON(5000), NULL)) < 0)
        return fail("console write", rc);
    char log[4200];
    snprintf(log, sizeof(log), "%s/guest-%s.log", hp.con_dir, HP_NAME);
    if (hp_wait_file(log, "Hello from the xenfront guest", 10000) < 0)
        return fail("waiting for xenconsoled's log", -XF_ETIMEDOUT);
    FILE *f = fopen(log, "r");
    printf("guest: wrote to its console; xenconsoled's log %s now holds:\n", log);
    while (f != NULL && fgets(buf, sizeof(buf), f) != NULL)
        printf("    | %s", buf);
    if (f != NULL)
        fclose(f);

    xf_console_destroy(con);
    xf_xenbus_destroy(xb);
    xf_evtchn_destroy(ec);
    hp_down(&hp);
    printf("\nxenconsoled and xenstored stopped; their private directory removed.\n");
    return 0;
}
