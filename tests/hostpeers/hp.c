/* The 'hostpeers' fixture: see hp.h. */
#define _GNU_SOURCE
#include "hp.h"

#include <xenstore.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef XF_DOM0_DIR_DEFAULT
#error "XF_DOM0_DIR_DEFAULT: where scripts/fetch-dom0.sh puts the programs"
#endif
#ifndef XF_SHIM_PATH
#error "XF_SHIM_PATH: the built libxfshim.so"
#endif

#define XENSTORED   "/usr/lib/xen-4.17/bin/xenstored"
#define XENCONSOLED "/usr/lib/xen-4.17/bin/xenconsoled"
#define QEMU        "/usr/libexec/xen-qemu-system-i386"

/* A string literal as exec wants it (execve never writes it). */
#define S(x) ((char *)(uintptr_t)(const char *)(x))

static struct hp *live;   /* the fixture this process has up, for atexit */

uint64_t hp_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Polling interval of the condition waits: short, and only ever a step of
 * a wait for a condition with a deadline. */
static void tick(void)
{
    struct timespec ts = { 0, 2 * 1000 * 1000 };
    nanosleep(&ts, NULL);
}

const char *hp_dom0_root(void)
{
    static char root[4096];
    const char *d = getenv("XF_DOM0_DIR");

    snprintf(root, sizeof(root), "%s/root", d != NULL && *d ? d : XF_DOM0_DIR_DEFAULT);
    return root;
}

static bool program(char *buf, size_t cap, const char *rel, const char **why)
{
    static char msg[8192];

    if (access(XF_SHIM_PATH, R_OK) != 0) {
        snprintf(msg, sizeof(msg), "the shim %s is not built (meson compile tests/shim/xfshim)",
                 XF_SHIM_PATH);
        *why = msg;
        return false;
    }
    snprintf(buf, cap, "%s%s", hp_dom0_root(), rel);
    if (access(buf, X_OK) == 0)
        return true;
    snprintf(msg, sizeof(msg),
             "%s is missing: run scripts/fetch-dom0.sh (or set XF_DOM0_DIR) to fetch "
             "Debian's xen-utils-4.17 and qemu-system-xen", buf);
    *why = msg;
    return false;
}

/* ------------------------------------------------------------------------
 * Daemons.
 */
static int spawn(struct hp *hp, struct hp_daemon *d, char *const argv[])
{
    char env_buf[8][4200];
    char *envp[9 + HP_MAX_QEMU_ENV];
    const char *root = hp_dom0_root();
    int n = 0;

    snprintf(d->log, sizeof(d->log), "%s/%s.log", hp->dir, d->name);
    snprintf(env_buf[n], sizeof(env_buf[n]), "PATH=/usr/sbin:/usr/bin:/sbin:/bin"); n++;
    snprintf(env_buf[n], sizeof(env_buf[n]), "XF_SIM_DIR=%s", xf_sim_dir(hp->sim)); n++;
    snprintf(env_buf[n], sizeof(env_buf[n]), "LD_PRELOAD=%s", XF_SHIM_PATH); n++;
    snprintf(env_buf[n], sizeof(env_buf[n]),
             "LD_LIBRARY_PATH=%s/usr/lib/x86_64-linux-gnu:%s/lib/x86_64-linux-gnu", root, root);
    n++;
    snprintf(env_buf[n], sizeof(env_buf[n]), "XENSTORED_RUNDIR=%s/xs", hp->dir); n++;
    snprintf(env_buf[n], sizeof(env_buf[n]), "XENSTORED_ROOTDIR=%s/xs", hp->dir); n++;
    snprintf(env_buf[n], sizeof(env_buf[n]), "XENSTORED_PATH=%s", hp->xs_path); n++;
    snprintf(env_buf[n], sizeof(env_buf[n]), "HOME=%s", hp->dir); n++;
    for (int i = 0; i < n; i++)
        envp[i] = env_buf[i];
    for (const char *const *e = d == &hp->qemu ? hp->qemu_env : NULL;
         e != NULL && *e != NULL && n < 8 + (int)HP_MAX_QEMU_ENV; e++)
        envp[n++] = S(*e);
    envp[n] = NULL;

    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        /* Async-signal-safe calls only until exec. */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int in = open("/dev/null", O_RDONLY);
        int out = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (in < 0 || out < 0)
            _exit(126);
        dup2(in, 0);
        dup2(out, 1);
        dup2(out, 2);
        execve(argv[0], argv, envp);
        _exit(125);
    }
    setpgid(pid, pid); /* also here: no window where a kill misses it */
    d->pid = pid;
    return 0;
}

bool hp_alive(struct hp_daemon *d)
{
    int st;
    if (d->pid <= 0)
        return false;
    return waitpid(d->pid, &st, WNOHANG) == 0;
}

void hp_stop_daemon(struct hp_daemon *d, unsigned int timeout_ms)
{
    int st;
    uint64_t end = hp_now_ms() + timeout_ms;

    if (d->pid <= 0)
        return;
    kill(-d->pid, SIGTERM);
    kill(d->pid, SIGTERM);
    while (waitpid(d->pid, &st, WNOHANG) == 0) {
        if (hp_now_ms() >= end) {
            kill(-d->pid, SIGKILL);
            kill(d->pid, SIGKILL);
            waitpid(d->pid, &st, 0);
            break;
        }
        tick();
    }
    kill(-d->pid, SIGKILL); /* anything it left in its group */
    d->pid = 0;
}

static void print_tail(const char *path)
{
    char buf[2048];
    int fd = open(path, O_RDONLY);

    if (fd < 0)
        return;
    off_t size = lseek(fd, 0, SEEK_END);
    lseek(fd, size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0, SEEK_SET);
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n > 0) {
        buf[n] = '\0';
        fprintf(stderr, "---- tail of %s ----\n%s\n", path, buf);
    }
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

/* Stop everything; keep (and point at) the logs if failed. */
static void teardown(struct hp *hp, bool failed)
{
    struct hp_daemon *order[] = { &hp->qemu, &hp->xenconsoled, &hp->xenstored };

    if (failed && hp->dir[0]) {
        fprintf(stderr, "hostpeers: test failed; logs kept in %s\n", hp->dir);
        for (size_t i = 0; i < 3; i++)
            if (order[i]->log[0])
                print_tail(order[i]->log);
    }
    if (hp->xs != NULL) {
        xs_close(hp->xs);
        hp->xs = NULL;
    }
    /* QEMU before xenstored: it talks to xenstored while it shuts down. */
    for (size_t i = 0; i < 3; i++)
        hp_stop_daemon(order[i], 3000);
    if (hp->sim != NULL) {
        xf_sim_destroy(hp->sim);
        hp->sim = NULL;
    }
    if (!failed && hp->dir[0])
        nftw(hp->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    hp->dir[0] = '\0';
    if (live == hp)
        live = NULL;
}

static void at_exit(void)
{
    /* Still up at exit: the test ended early (a failed assertion exits in
     * libcheck's fork mode). */
    if (live != NULL)
        teardown(live, true);
}

void hp_down(struct hp *hp)
{
    teardown(hp, false);
}

bool hp_cleanup_failed(void)
{
    if (live == NULL)
        return false;
    teardown(live, true);
    return true;
}

int hp_up(struct hp *hp, const char **why)
{
    static bool registered;
    const char *tmp = getenv("TMPDIR");

    if (live != NULL)
        teardown(live, true); /* an earlier test of this process failed (no-fork mode) */
    memset(hp, 0, sizeof(*hp));
    hp->xenstored.name = "xenstored";
    hp->xenconsoled.name = "xenconsoled";
    hp->qemu.name = "qemu";
    /* Unix socket paths live in it: a long $TMPDIR would not fit sun_path. */
    if (tmp == NULL || *tmp == '\0' || strlen(tmp) > 64)
        tmp = "/tmp";
    snprintf(hp->dir, sizeof(hp->dir), "%s/hostpeers-XXXXXX", tmp);
    if (mkdtemp(hp->dir) == NULL) {
        *why = "mkdtemp failed";
        return -errno;
    }
    snprintf(hp->xs_path, sizeof(hp->xs_path), "%s/xs/socket", hp->dir);
    snprintf(hp->con_dir, sizeof(hp->con_dir), "%s/console", hp->dir);
    char p[4200];
    snprintf(p, sizeof(p), "%s/xs", hp->dir);
    mkdir(p, 0755);
    mkdir(hp->con_dir, 0755);
    if (!registered) {
        atexit(at_exit);
        registered = true;
    }
    live = hp;
    hp->sim = xf_sim_create(NULL);
    if (hp->sim == NULL) {
        *why = "xf_sim_create failed";
        return -EIO;
    }
    hp->domid = xf_sim_guest_domid(hp->sim);
    return 0;
}

int hp_wait_socket(const char *path, unsigned int timeout_ms)
{
    uint64_t end = hp_now_ms() + timeout_ms;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };

    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    for (;;) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return -errno;
        int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
        close(fd);
        if (rc == 0)
            return 0;
        if (hp_now_ms() >= end)
            return -ETIMEDOUT;
        tick();
    }
}

int hp_start_xenstored(struct hp *hp, const char **why)
{
    char prog[4096], trace[4200];

    if (!program(prog, sizeof(prog), XENSTORED, why))
        return -ENOENT;
    snprintf(trace, sizeof(trace), "%s/xenstored.trace", hp->dir);
    char *argv[] = { prog, S("-N"), getenv("XF_HP_TRACE") ? S("-T") : NULL, trace, NULL };
    int rc = spawn(hp, &hp->xenstored, argv);
    if (rc < 0) {
        *why = "cannot start xenstored";
        return rc;
    }
    if (hp_wait_socket(hp->xs_path, 10000) < 0 || !hp_alive(&hp->xenstored)) {
        *why = "xenstored did not open its socket";
        return -ETIMEDOUT;
    }
    setenv("XENSTORED_PATH", hp->xs_path, 1);
    hp->xs = xs_open(0);
    if (hp->xs == NULL) {
        *why = "xs_open (libxenstore) failed on xenstored's socket";
        return -errno;
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * Toolstack.
 */
static bool set_perms(struct hp *hp, xs_transaction_t t, const char *path, unsigned int owner,
                      unsigned int reader)
{
    struct xs_permissions p[2] = {
        { .id = owner, .perms = XS_PERM_NONE },
        { .id = reader, .perms = XS_PERM_READ },
    };
    return xs_set_permissions(hp->xs, t, path, p, 2);
}

static bool wr(struct hp *hp, xs_transaction_t t, const char *path, const char *val)
{
    return xs_write(hp->xs, t, path, val, (unsigned int)strlen(val));
}

static bool write_kv(struct hp *hp, xs_transaction_t t, const char *dir,
                     const char *const *kv)
{
    char p[512];
    for (; kv != NULL && kv[0] != NULL; kv += 2) {
        snprintf(p, sizeof(p), "%s/%s", dir, kv[0]);
        if (!wr(hp, t, p, kv[1]))
            return false;
    }
    return true;
}

int hp_add_device(struct hp *hp, const char *type, unsigned int devid, const char *const *fe,
                  const char *const *be)
{
    return hp_add_device_as(hp, type, type, devid, fe, be);
}

int hp_add_device_as(struct hp *hp, const char *type, const char *be_type, unsigned int devid,
                     const char *const *fe, const char *const *be)
{
    char fdir[256], bdir[256], v[64];
    unsigned int D = hp->domid;

    snprintf(fdir, sizeof(fdir), "/local/domain/%u/device/%s/%u", D, type, devid);
    snprintf(bdir, sizeof(bdir), "/local/domain/0/backend/%s/%u/%u", be_type, D, devid);
    for (int attempt = 0; attempt < 10; attempt++) {
        xs_transaction_t t = xs_transaction_start(hp->xs);
        if (t == XBT_NULL)
            return -errno;
        bool ok = xs_mkdir(hp->xs, t, fdir) && set_perms(hp, t, fdir, D, 0) &&
                  xs_mkdir(hp->xs, t, bdir) && set_perms(hp, t, bdir, 0, D);
        char p[300];
        snprintf(p, sizeof(p), "%s/backend", fdir);
        ok = ok && wr(hp, t, p, bdir);
        snprintf(p, sizeof(p), "%s/backend-id", fdir);
        ok = ok && wr(hp, t, p, "0");
        snprintf(p, sizeof(p), "%s/state", fdir);
        ok = ok && wr(hp, t, p, "1");
        snprintf(p, sizeof(p), "%s/frontend", bdir);
        ok = ok && wr(hp, t, p, fdir);
        snprintf(p, sizeof(p), "%s/frontend-id", bdir);
        snprintf(v, sizeof(v), "%u", D);
        ok = ok && wr(hp, t, p, v);
        snprintf(p, sizeof(p), "%s/online", bdir);
        ok = ok && wr(hp, t, p, "1");
        snprintf(p, sizeof(p), "%s/state", bdir);
        ok = ok && wr(hp, t, p, "1");
        ok = ok && write_kv(hp, t, fdir, fe) && write_kv(hp, t, bdir, be);
        if (!ok) {
            int e = errno;
            xs_transaction_end(hp->xs, t, true);
            return -e;
        }
        if (xs_transaction_end(hp->xs, t, false))
            return 0;
        if (errno != EAGAIN)
            return -errno;
    }
    return -EAGAIN;
}

int hp_add_qdisk(struct hp *hp, unsigned int devid, const char *path, bool discard)
{
    char params[4200], vdev[16];
    const char *fe[] = { "virtual-device", vdev, NULL };
    const char *be[] = { "dev", "xvda", "device-type", "disk", "params", params,
                         "mode", "w", "removable", "0", "type", "qdisk",
                         /* libxl writes it from the disk's discard setting; QEMU
                          * then opens the drive with discard=unmap and offers
                          * feature-discard. */
                         discard ? "discard-enable" : NULL, "1", NULL };

    if ((size_t)snprintf(params, sizeof(params), "aio:%s", path) >= sizeof(params))
        return -ENAMETOOLONG;
    snprintf(vdev, sizeof(vdev), "%u", devid);
    return hp_add_device_as(hp, "vbd", "qdisk", devid, fe, be);
}

int hp_introduce(struct hp *hp, const char *console_type, const char **why)
{
    unsigned int D = hp->domid;
    char dom[64], p[256], v[64];

    snprintf(dom, sizeof(dom), "/local/domain/%u", D);
    for (int attempt = 0;; attempt++) {
        xs_transaction_t t = xs_transaction_start(hp->xs);
        if (t == XBT_NULL) {
            *why = "xs_transaction_start failed";
            return -errno;
        }
        bool ok = xs_mkdir(hp->xs, t, dom) && set_perms(hp, t, dom, 0, D);
        snprintf(p, sizeof(p), "%s/name", dom);
        ok = ok && wr(hp, t, p, HP_NAME);
        snprintf(p, sizeof(p), "%s/domid", dom);
        snprintf(v, sizeof(v), "%u", D);
        ok = ok && wr(hp, t, p, v);
        /* What the guest may write: data/ (and the device and console
         * directories, made per device). */
        snprintf(p, sizeof(p), "%s/data", dom);
        ok = ok && xs_mkdir(hp->xs, t, p) && set_perms(hp, t, p, D, 0);
        snprintf(p, sizeof(p), "%s/device", dom);
        ok = ok && xs_mkdir(hp->xs, t, p) && set_perms(hp, t, p, 0, D);
        snprintf(p, sizeof(p), "%s/control", dom);
        ok = ok && xs_mkdir(hp->xs, t, p) && set_perms(hp, t, p, 0, D);
        snprintf(p, sizeof(p), "%s/store/ring-ref", dom);
        snprintf(v, sizeof(v), "%lu", (unsigned long)xf_sim_store_gfn(hp->sim));
        ok = ok && wr(hp, t, p, v);
        snprintf(p, sizeof(p), "%s/store/port", dom);
        snprintf(v, sizeof(v), "%u", xf_sim_store_port(hp->sim));
        ok = ok && wr(hp, t, p, v);
        if (console_type != NULL) {
            /* The primary console: a frontend directory of the guest's. */
            snprintf(p, sizeof(p), "%s/console", dom);
            ok = ok && xs_mkdir(hp->xs, t, p) && set_perms(hp, t, p, D, 0);
            snprintf(p, sizeof(p), "%s/console/ring-ref", dom);
            snprintf(v, sizeof(v), "%lu", (unsigned long)xf_sim_console_gfn(hp->sim));
            ok = ok && wr(hp, t, p, v);
            snprintf(p, sizeof(p), "%s/console/port", dom);
            snprintf(v, sizeof(v), "%u", xf_sim_console_port(hp->sim));
            ok = ok && wr(hp, t, p, v);
            snprintf(p, sizeof(p), "%s/console/type", dom);
            ok = ok && wr(hp, t, p, console_type);
            snprintf(p, sizeof(p), "%s/console/limit", dom);
            ok = ok && wr(hp, t, p, "1048576");
            snprintf(p, sizeof(p), "%s/console/tty", dom);
            ok = ok && wr(hp, t, p, "");
        }
        if (!ok) {
            int e = errno;
            xs_transaction_end(hp->xs, t, true);
            *why = "writing the domain's xenstore area failed";
            return -e;
        }
        if (xs_transaction_end(hp->xs, t, false))
            break;
        if (errno != EAGAIN || attempt == 10) {
            *why = "committing the domain's xenstore area failed";
            return -errno;
        }
    }
    if (!xs_introduce_domain(hp->xs, D, xf_sim_store_gfn(hp->sim), xf_sim_store_port(hp->sim))) {
        *why = "XS_INTRODUCE failed";
        return -errno;
    }
    hp->introduced = true;
    return 0;
}

int hp_xs_read(struct hp *hp, const char *path, char *buf, size_t cap)
{
    unsigned int len;
    char *v = xs_read(hp->xs, XBT_NULL, path, &len);

    if (v == NULL)
        return -errno;
    if (len >= cap)
        len = (unsigned int)cap - 1;
    memcpy(buf, v, len);
    buf[len] = '\0';
    free(v);
    return (int)len;
}

int hp_xs_write(struct hp *hp, const char *path, const char *value)
{
    return wr(hp, XBT_NULL, path, value) ? 0 : -errno;
}

int hp_wait_xs(struct hp *hp, const char *path, const char *value, unsigned int timeout_ms)
{
    uint64_t end = hp_now_ms() + timeout_ms;
    char buf[4096];

    for (;;) {
        int n = hp_xs_read(hp, path, buf, sizeof(buf));
        if (n >= 0 && (value == NULL ? n > 0 : strcmp(buf, value) == 0))
            return 0;
        if (hp_now_ms() >= end)
            return -ETIMEDOUT;
        tick();
    }
}

int hp_wait_file(const char *path, const char *needle, unsigned int timeout_ms)
{
    uint64_t end = hp_now_ms() + timeout_ms;
    static char buf[1 << 20];

    for (;;) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            ssize_t n = read(fd, buf, sizeof(buf) - 1);
            close(fd);
            if (n > 0) {
                buf[n] = '\0';
                if (memmem(buf, (size_t)n, needle, strlen(needle)) != NULL)
                    return 0;
            }
        }
        if (hp_now_ms() >= end)
            return -ETIMEDOUT;
        tick();
    }
}

int hp_start_xenconsoled(struct hp *hp, const char **why)
{
    char prog[4096], logdir[4200], pidf[4200], p[128];

    if (!program(prog, sizeof(prog), XENCONSOLED, why))
        return -ENOENT;
    snprintf(logdir, sizeof(logdir), "--log-dir=%s", hp->con_dir);
    snprintf(pidf, sizeof(pidf), "--pid-file=%s/xenconsoled.pid", hp->dir);
    char *argv[] = { prog, S("-i"), S("--log=guest"), logdir, pidf, NULL };
    int rc = spawn(hp, &hp->xenconsoled, argv);
    if (rc < 0) {
        *why = "cannot start xenconsoled";
        return rc;
    }
    /* Connected to the guest's console when it has written the pty. */
    snprintf(p, sizeof(p), "/local/domain/%u/console/tty", hp->domid);
    if (hp_wait_xs(hp, p, NULL, 10000) < 0 || !hp_alive(&hp->xenconsoled)) {
        *why = "xenconsoled did not connect the console (no console/tty)";
        return -ETIMEDOUT;
    }
    return 0;
}

int hp_start_qemu(struct hp *hp, const char *const *extra, const char **why)
{
    char prog[4096], dom[16], qmp[4300], p[128];
    char *argv[64];
    int n = 0;

    if (!program(prog, sizeof(prog), QEMU, why))
        return -ENOENT;
    snprintf(dom, sizeof(dom), "%u", hp->domid);
    snprintf(qmp, sizeof(qmp), "socket,id=libxl-cmd,path=%s/qmp.sock,server=on,wait=off",
             hp->dir);
    char *base[] = { prog, S("-xen-domid"), dom, S("-no-shutdown"), S("-chardev"), qmp,
                     S("-mon"), S("chardev=libxl-cmd,mode=control"), S("-nodefaults"),
                     S("-no-user-config"), S("-xen-attach"), S("-name"), S(HP_NAME),
                     S("-display"), S("none"), S("-nographic"), S("-machine"), S("xenpv"), S("-m"), S("1025") };
    for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
        argv[n++] = base[i];
    for (; extra != NULL && *extra != NULL && n < 62; extra++)
        argv[n++] = S(*extra);
    argv[n] = NULL;
    int rc = spawn(hp, &hp->qemu, argv);
    if (rc < 0) {
        *why = "cannot start QEMU";
        return rc;
    }
    snprintf(p, sizeof(p), "/local/domain/0/device-model/%u/state", hp->domid);
    if (hp_wait_xs(hp, p, "running", 20000) < 0 || !hp_alive(&hp->qemu)) {
        *why = "QEMU did not reach device-model state \"running\"";
        return -ETIMEDOUT;
    }
    return 0;
}

int hp_start_qemu_from(struct hp *hp, const char *dom0_dir, const char *const *extra,
                       const char **why)
{
    /* hp_start_qemu() takes the program and its libraries from
     * hp_dom0_root(), which reads $XF_DOM0_DIR: point it at dom0_dir for
     * the call (the test's main flow only; nothing else reads it then). */
    const char *old = getenv("XF_DOM0_DIR");
    char *saved = old != NULL ? strdup(old) : NULL;
    int rc;

    if (old != NULL && saved == NULL) {
        *why = "out of memory";
        return -ENOMEM;
    }
    setenv("XF_DOM0_DIR", dom0_dir, 1);
    rc = hp_start_qemu(hp, extra, why);
    if (saved != NULL)
        setenv("XF_DOM0_DIR", saved, 1);
    else
        unsetenv("XF_DOM0_DIR");
    free(saved);
    return rc;
}
