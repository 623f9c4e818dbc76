/*
 * The 'hostpeers' fixture: unmodified Debian dom0 programs (xenstored,
 * xenconsoled, QEMU's Xen PV backends) run on this host as dom0 of the
 * simulator, through the preloaded shim (tests/shim), and serve the
 * front-ends of this test process, which is the guest.
 *
 * Each test gets a private directory (mkdtemp under $TMPDIR) holding the
 * daemons' sockets, logs and state; daemons are tracked by PID, each in a
 * process group of its own, and are stopped (SIGTERM, then SIGKILL at a
 * deadline) by hp_down(), by an atexit handler when a failed assertion ends
 * the test process (libcheck's fork mode exits), and by the kernel
 * (PR_SET_PDEATHSIG) if the test process is killed. On failure the
 * directory is kept and its path and the logs' tails are printed.
 *
 * The toolstack side uses libxenstore, the reference client, over
 * xenstored's socket, and does what libxl does: the domain's xenstore area,
 * device directories in one transaction each with libxl's permissions, and
 * XS_INTRODUCE with the store frame and port.
 */
#ifndef XF_HP_H
#define XF_HP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <xenfront/sim.h>

struct xs_handle;

struct hp_daemon {
    const char *name;           /* set by hp_up */
    pid_t pid;              /* 0: not running */
    char log[4096];
};

struct hp {
    struct xf_sim *sim;
    domid_t domid;          /* the guest (this process) */
    char dir[1024];         /* private directory */
    char xs_path[4096];     /* xenstored's socket */
    char con_dir[4096];     /* xenconsoled's log directory */
    struct hp_daemon xenstored, xenconsoled, qemu;
    struct xs_handle *xs;   /* dom0's toolstack connection (libxenstore) */
    bool introduced;
    /* More NAME=value entries for the environment of the QEMUs started
     * from now on (at most HP_MAX_QEMU_ENV, NULL-terminated), or NULL: the
     * shim's test knobs. hp_up() clears it. */
    const char *const *qemu_env;
};

#define HP_MAX_QEMU_ENV 8

#define HP_NAME "xfguest"

/* Where the programs are: $XF_DOM0_DIR, else the build's default. */
const char *hp_dom0_root(void);

/* A private directory and the simulator (this process: the guest). On
 * error, *why says what is missing (for the test's failure message). */
int hp_up(struct hp *hp, const char **why);

/* Start xenstored and connect the toolstack handle. */
int hp_start_xenstored(struct hp *hp, const char **why);
/* The domain's area (/local/domain/D: name, domid, its permissions, the
 * primary console's ring-ref/port of the given type, "xenconsoled" or
 * "ioemu") and XS_INTRODUCE (store gfn, port). */
int hp_introduce(struct hp *hp, const char *console_type, const char **why);
/* Start xenconsoled (after hp_introduce). */
int hp_start_xenconsoled(struct hp *hp, const char **why);
/* Start QEMU as libxl does for a PV guest; waits for device-model state
 * "running". extra: more arguments (NULL-terminated) or NULL. */
int hp_start_qemu(struct hp *hp, const char *const *extra, const char **why);

/* Stop everything, in order (QEMU, xenconsoled, xenstored), destroy the
 * simulator and remove the directory. */
void hp_down(struct hp *hp);

bool hp_alive(struct hp_daemon *d);

/* After a test: if the fixture is still up (the test failed before
 * hp_down()), stop everything, keep the directory and print where it is.
 * Returns whether it was up. For libcheck's no-fork mode, where a failed
 * assertion returns to the runner (fork mode's _exit skips atexit). */
bool hp_cleanup_failed(void);

/* Stop one daemon (SIGTERM to its group, SIGKILL after timeout_ms). */
void hp_stop_daemon(struct hp_daemon *d, unsigned int timeout_ms);

/* Toolstack: a device's backend and frontend directories, in one
 * transaction, with libxl's permissions (backend "n0 r<domid>", frontend
 * "n<domid> r0"). fe/be: NULL-terminated key, value pairs. */
int hp_add_device(struct hp *hp, const char *type, unsigned int devid,
                  const char *const *fe, const char *const *be);
/* The same, where the back end's directory has another type than the
 * guest's (libxl's qdisk: device/vbd/<id>, backend/qdisk/<domid>/<id>). */
int hp_add_device_as(struct hp *hp, const char *type, const char *be_type, unsigned int devid,
                     const char *const *fe, const char *const *be);
/* A qdisk of QEMU's xen-block on the raw image at path (libxl's keys:
 * dev xvda, params aio:<path>, mode w; discard-enable=1 when discard). */
int hp_add_qdisk(struct hp *hp, unsigned int devid, const char *path, bool discard);

/* Conditions with deadlines. */
int hp_wait_xs(struct hp *hp, const char *path, const char *value, unsigned int timeout_ms);
/* Read a node into buf (NUL-terminated): length, or -errno. */
int hp_xs_read(struct hp *hp, const char *path, char *buf, size_t cap);
int hp_xs_write(struct hp *hp, const char *path, const char *value);
int hp_wait_file(const char *path, const char *needle, unsigned int timeout_ms);
int hp_wait_socket(const char *path, unsigned int timeout_ms);

uint64_t hp_now_ms(void);

/* hp_start_qemu() with the program and its libraries taken from another
 * extracted tree (dom0_dir/root, laid out as build/dom0: QEMU 10 from
 * scripts/fetch-qemu10.sh); xenstored stays the one of hp_dom0_root(). */
int hp_start_qemu_from(struct hp *hp, const char *dom0_dir, const char *const *extra,
                       const char **why);

#endif
