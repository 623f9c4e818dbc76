/* The simulated xenstored: every operation and its errors, permissions,
 * paths, quotas, and the toolstack API. */
#include "xsd_client.h"

static char home[64];

static void ops_setup(void)
{
    setup();
    snprintf(home, sizeof(home), "/local/domain/%u", G);
}

/* A path under the guest's home. */
static const char *H(const char *rel)
{
    static char buf[4][512];
    static unsigned i;
    char *b = buf[i++ % 4];

    snprintf(b, sizeof(buf[0]), "%s/%s", home, rel);
    return b;
}

START_TEST(start_features_and_initial_tree)
{
    char buf[64];
    struct reply r;

    ck_assert_uint_eq(XF_READ_ONCE(intf->server_features),
                      XENSTORE_SERVER_FEATURE_RECONNECTION | XENSTORE_SERVER_FEATURE_ERROR);
    ck_assert_uint_eq(XF_READ_ONCE(intf->connection), XENSTORE_CONNECTED);
    ck_assert_int_eq(xf_xsd_read(xsd, "/local/domain/0/name", buf, sizeof(buf)), 8);
    ck_assert_str_eq(buf, "Domain-0");
    ck_assert(xf_xsd_exists(xsd, "/tool/xenstored"));
    ck_assert_int_eq(xf_xsd_get_perms(xsd, home, buf, sizeof(buf)), 3);
    snprintf(r.data, 16, "n%u", G);
    ck_assert_str_eq(buf, r.data);
    ck_assert_int_eq(xf_xsd_read(xsd, H("control/platform-feature-xs_reset_watches"), buf,
                                 sizeof(buf)), 1);
    ck_assert_str_eq(buf, "1");
    /* The guest reads its own home. */
    ck_assert_uint_eq(cli_op(&r, XS_GET_PERMS, 0, 1, home), XS_GET_PERMS);
    ck_assert_int_eq(xf_xsd_get_perms(xsd, home, buf, sizeof(buf)), 3);
    ck_assert_str_eq(r.data, buf);
    ck_assert_uint_eq(r.hdr.len, strlen(buf) + 1);
}
END_TEST

START_TEST(read_write_absolute_and_relative)
{
    struct reply r;
    uint32_t id;

    ck_assert_uint_eq(cli_write(&r, 0, "data/a", "hello"), XS_WRITE);
    ck_ok(&r, XS_WRITE);
    /* READ's reply is the value, without a NUL. */
    ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, H("data/a")), XS_READ);
    ck_assert_uint_eq(r.hdr.len, 5);
    ck_assert_mem_eq(r.data, "hello", 5);
    ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, "data/a"), XS_READ);
    ck_assert_mem_eq(r.data, "hello", 5);
    /* Empty and binary values. */
    ck_assert_uint_eq(cli_write(&r, 0, "data/empty", ""), XS_WRITE);
    ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, "data/empty"), XS_READ);
    ck_assert_uint_eq(r.hdr.len, 0);
    {
        static const char bin[] = "p\0a\0b";   /* path, then a value holding a NUL */
        char buf[16];

        id = cli_send(XS_WRITE, 0, bin, 5);
        cli_reply(id, &r);
        ck_ok(&r, XS_WRITE);
        ck_assert_int_eq(xf_xsd_read(xsd, H("p"), buf, sizeof(buf)), 3);
        ck_assert_mem_eq(buf, "a\0b", 3);
    }
    /* The reply echoes req_id and tx_id. */
    id = cli_send(XS_READ, 0, "data/a", 7);
    cli_reply(id, &r);
    ck_assert_uint_eq(r.hdr.req_id, id);
    ck_assert_uint_eq(r.hdr.tx_id, 0);
    /* Missing. */
    ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, "data/nope"), XS_ERROR);
    ck_error(&r, "ENOENT");
    /* The toolstack sees it. */
    {
        char buf[4];

        ck_assert_int_eq(xf_xsd_read(xsd, H("data/a"), buf, sizeof(buf)), 5);
        ck_assert_str_eq(buf, "hel");   /* truncated, like snprintf */
        ck_assert_int_eq(xf_xsd_read(xsd, H("data/zz"), buf, sizeof(buf)), -ENOENT);
        ck_assert_int_eq(xf_xsd_read(xsd, "relative", buf, sizeof(buf)), -EINVAL);
    }
    ck_assert_uint_ge(xf_xsd_requests(xsd), 8);
}
END_TEST

START_TEST(write_creates_parents_with_inherited_perms)
{
    struct reply r;
    char buf[64], want[64];
    const char *const perms[] = { "n0", "b0" };   /* b for the guest, below */
    char gb[16];

    snprintf(gb, sizeof(gb), "b%u", G);
    {
        const char *const p2[] = { "n0", gb };

        ck_assert_int_eq(xf_xsd_mkdir(xsd, "/shared"), 0);
        ck_assert_int_eq(xf_xsd_set_perms(xsd, "/shared", p2, 2), 0);
    }
    (void)perms;
    ck_assert_uint_eq(cli_write(&r, 0, "/shared/x/y/z", "v"), XS_WRITE);
    ck_ok(&r, XS_WRITE);
    /* New nodes inherit the parent's list, the creator becoming owner. */
    ck_assert_uint_eq(cli_op(&r, XS_GET_PERMS, 0, 1, "/shared/x/y"), XS_GET_PERMS);
    snprintf(want, sizeof(want), "n%u", G);
    ck_assert_str_eq(r.data, want);
    ck_assert_str_eq(r.data + strlen(r.data) + 1, gb);
    ck_assert_uint_eq(r.hdr.len, strlen(want) + 1 + strlen(gb) + 1);
    ck_assert_int_eq(xf_xsd_read(xsd, "/shared/x/y", buf, sizeof(buf)), 0);
    ck_assert_uint_eq(cli_op(&r, XS_DIRECTORY, 0, 1, "/shared"), XS_DIRECTORY);
    ck_assert_uint_eq(r.hdr.len, 2);
    ck_assert_str_eq(r.data, "x");
    /* A toolstack write keeps the parent's owner. */
    ck_assert_int_eq(xf_xsd_write(xsd, "/shared/t/u", "1", 1), 0);
    ck_assert_int_eq(xf_xsd_get_perms(xsd, "/shared/t/u", buf, sizeof(buf)), 3 + (int)strlen(gb) + 1);
    ck_assert_str_eq(buf, "n0");
}
END_TEST

START_TEST(mkdir_and_rm)
{
    struct reply r;

    ck_assert_uint_eq(cli_op(&r, XS_MKDIR, 0, 1, "data/d/e"), XS_MKDIR);
    ck_ok(&r, XS_MKDIR);
    ck_assert_uint_eq(cli_write(&r, 0, "data/d/e/f", "1"), XS_WRITE);
    /* mkdir of an existing node leaves its value alone. */
    ck_assert_uint_eq(cli_op(&r, XS_MKDIR, 0, 1, "data/d/e/f"), XS_MKDIR);
    ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, "data/d/e/f"), XS_READ);
    ck_assert_mem_eq(r.data, "1", 1);
    /* rm is recursive. */
    ck_assert_uint_eq(cli_op(&r, XS_RM, 0, 1, "data/d"), XS_RM);
    ck_ok(&r, XS_RM);
    ck_assert(!xf_xsd_exists(xsd, H("data/d/e/f")));
    ck_assert(!xf_xsd_exists(xsd, H("data/d")));
    ck_assert_uint_eq(cli_op(&r, XS_DIRECTORY, 0, 1, "data"), XS_DIRECTORY);
    ck_assert_uint_eq(r.hdr.len, 0);
    /* Missing node, parent present: OK. Parent missing too: ENOENT. */
    ck_assert_uint_eq(cli_op(&r, XS_RM, 0, 1, "data/d"), XS_RM);
    ck_ok(&r, XS_RM);
    ck_assert_uint_eq(cli_op(&r, XS_RM, 0, 1, "data/d/e"), XS_ERROR);
    ck_error(&r, "ENOENT");
    /* The root is dom0's. */
    ck_assert_uint_eq(cli_op(&r, XS_RM, 0, 1, "/"), XS_ERROR);
    ck_error(&r, "EACCES");
    /* Toolstack rm. */
    ck_assert_int_eq(xf_xsd_write(xsd, "/a/b/c", "x", 1), 0);
    ck_assert_int_eq(xf_xsd_rm(xsd, "/a"), 0);
    ck_assert(!xf_xsd_exists(xsd, "/a/b"));
    ck_assert_int_eq(xf_xsd_rm(xsd, "/a"), 0);
    ck_assert_int_eq(xf_xsd_rm(xsd, "/a/b"), -ENOENT);
    ck_assert_int_eq(xf_xsd_rm(xsd, "/"), -EINVAL);
}
END_TEST

START_TEST(directory_in_creation_order)
{
    struct reply r;
    static const char want[] = "zeta\0alpha\0mid\0";

    ck_assert_uint_eq(cli_write(&r, 0, "data/zeta", "1"), XS_WRITE);
    ck_assert_uint_eq(cli_write(&r, 0, "data/alpha", "1"), XS_WRITE);
    ck_assert_uint_eq(cli_op(&r, XS_MKDIR, 0, 1, "data/mid"), XS_MKDIR);
    ck_assert_uint_eq(cli_op(&r, XS_DIRECTORY, 0, 1, "data"), XS_DIRECTORY);
    ck_assert_uint_eq(r.hdr.len, sizeof(want) - 1);
    ck_assert_mem_eq(r.data, want, sizeof(want) - 1);
    ck_assert_uint_eq(cli_op(&r, XS_DIRECTORY, 0, 1, "data/none"), XS_ERROR);
    ck_error(&r, "ENOENT");
}
END_TEST

/* 2000 children: DIRECTORY is too big (E2BIG), DIRECTORY_PART gives all. */
START_TEST(directory_part_2000_children)
{
    struct reply r;
    char name[64], off[16], gen[32] = "";
    unsigned total = 0, calls = 0, offset = 0;
    bool done = false;

    for (unsigned i = 0; i < 2000; i++) {
        snprintf(name, sizeof(name), "/big/child-%04u", i);
        ck_assert_int_eq(xf_xsd_write(xsd, name, "", 0), 0);
    }
    {
        const char *const p[] = { "n0", "r0" };
        char rg[16];
        const char *const p2[] = { "n0", rg };

        (void)p;
        snprintf(rg, sizeof(rg), "r%u", G);
        ck_assert_int_eq(xf_xsd_set_perms(xsd, "/big", p2, 2), 0);
    }
    ck_assert_uint_eq(cli_op(&r, XS_DIRECTORY, 0, 1, "/big"), XS_ERROR);
    ck_error(&r, "E2BIG");

    while (!done) {
        const char *p;
        size_t gl;

        snprintf(off, sizeof(off), "%u", offset);
        ck_assert_uint_eq(cli_op(&r, XS_DIRECTORY_PART, 0, 2, "/big", off), XS_DIRECTORY_PART);
        ck_assert_uint_le(r.hdr.len, XENSTORE_PAYLOAD_MAX);
        calls++;
        gl = strlen(r.data);
        ck_assert_uint_gt(gl, 0);
        if (gen[0])
            ck_assert_str_eq(r.data, gen);   /* unchanged directory, same generation */
        else
            memcpy(gen, r.data, gl + 1);
        p = r.data + gl + 1;
        while (p < r.data + r.hdr.len) {
            if (*p == 0) {   /* the empty string that ends the list */
                ck_assert_ptr_eq(p + 1, r.data + r.hdr.len);
                done = true;
                break;
            }
            snprintf(name, sizeof(name), "child-%04u", total);
            ck_assert_str_eq(p, name);
            total++;
            offset += (unsigned)strlen(p) + 1;
            p += strlen(p) + 1;
        }
        ck_assert_uint_lt(calls, 20);
    }
    ck_assert_uint_eq(total, 2000);
    ck_assert_uint_ge(calls, 5);   /* 22000 bytes of names */
    /* Past the end: the generation and an empty string. */
    snprintf(off, sizeof(off), "%u", offset + 100);
    ck_assert_uint_eq(cli_op(&r, XS_DIRECTORY_PART, 0, 2, "/big", off), XS_DIRECTORY_PART);
    ck_assert_uint_eq(r.hdr.len, strlen(gen) + 2);
    ck_assert_str_eq(r.data, gen);
    /* A change gives a new generation. */
    ck_assert_int_eq(xf_xsd_write(xsd, "/big/child-new", "", 0), 0);
    ck_assert_uint_eq(cli_op(&r, XS_DIRECTORY_PART, 0, 2, "/big", "0"), XS_DIRECTORY_PART);
    ck_assert_str_ne(r.data, gen);
    /* One string only: EINVAL. */
    ck_assert_uint_eq(cli_op(&r, XS_DIRECTORY_PART, 0, 1, "/big"), XS_ERROR);
    ck_error(&r, "EINVAL");
}
END_TEST

START_TEST(permissions_and_errno_hiding)
{
    struct reply r;
    char gb[16], buf[64];

    /* dom0's nodes ("n0"): no reading, and no telling what exists. */
    ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, "/local/domain/0/name"), XS_ERROR);
    ck_error(&r, "EACCES");
    ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, "/local/domain/0/nonexistent"), XS_ERROR);
    ck_error(&r, "EACCES");
    ck_assert_uint_eq(cli_op(&r, XS_DIRECTORY, 0, 1, "/local/domain"), XS_ERROR);
    ck_error(&r, "EACCES");
    ck_assert_uint_eq(cli_write(&r, 0, "/local/domain/0/x", "1"), XS_ERROR);
    ck_error(&r, "EACCES");
    ck_assert_uint_eq(cli_op(&r, XS_MKDIR, 0, 1, "/newtop"), XS_ERROR);
    ck_error(&r, "EACCES");
    ck_assert_uint_eq(cli_op(&r, XS_GET_PERMS, 0, 1, "/tool"), XS_ERROR);
    ck_error(&r, "EACCES");

    /* Per-domain entries: read only. */
    snprintf(gb, sizeof(gb), "r%u", G);
    {
        const char *const p[] = { "n0", gb };

        ck_assert_int_eq(xf_xsd_write(xsd, "/ro/v", "42", 2), 0);
        ck_assert_int_eq(xf_xsd_set_perms(xsd, "/ro", p, 2), 0);
        ck_assert_int_eq(xf_xsd_set_perms(xsd, "/ro/v", p, 2), 0);
    }
    ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, "/ro/v"), XS_READ);
    ck_assert_mem_eq(r.data, "42", 2);
    ck_assert_uint_eq(cli_write(&r, 0, "/ro/v", "43"), XS_ERROR);
    ck_error(&r, "EACCES");
    ck_assert_uint_eq(cli_write(&r, 0, "/ro/new", "1"), XS_ERROR);
    ck_error(&r, "EACCES");
    /* Missing under a readable parent: the truth. */
    ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, "/ro/missing"), XS_ERROR);
    ck_error(&r, "ENOENT");
    /* Only the owner changes permissions. */
    ck_assert_uint_eq(cli_op(&r, XS_SET_PERMS, 0, 3, "/ro/v", "n0", "b1"), XS_ERROR);
    ck_error(&r, "EACCES");

    /* The guest's own nodes. */
    ck_assert_uint_eq(cli_write(&r, 0, "data/mine", "1"), XS_WRITE);
    snprintf(gb, sizeof(gb), "n%u", G);
    ck_assert_uint_eq(cli_op(&r, XS_SET_PERMS, 0, 3, "data/mine", gb, "r0"), XS_SET_PERMS);
    ck_ok(&r, XS_SET_PERMS);
    ck_assert_int_eq(xf_xsd_get_perms(xsd, H("data/mine"), buf, sizeof(buf)),
                     (int)strlen(gb) + 1 + 3);
    ck_assert_str_eq(buf, gb);
    ck_assert_str_eq(buf + strlen(gb) + 1, "r0");
    /* It may not give it away (EPERM), nor name a missing owner (ENOENT). */
    ck_assert_uint_eq(cli_op(&r, XS_SET_PERMS, 0, 2, "data/mine", "n0"), XS_ERROR);
    ck_error(&r, "EPERM");
    ck_assert_uint_eq(cli_op(&r, XS_SET_PERMS, 0, 2, "data/mine", "n77"), XS_ERROR);
    ck_error(&r, "ENOENT");
    ck_assert_uint_eq(cli_op(&r, XS_SET_PERMS, 0, 2, "data/mine", "x1"), XS_ERROR);
    ck_error(&r, "EINVAL");
    ck_assert_uint_eq(cli_op(&r, XS_SET_PERMS, 0, 2, "data/mine", "r"), XS_ERROR);
    ck_error(&r, "EINVAL");
    ck_assert_uint_eq(cli_op(&r, XS_SET_PERMS, 0, 1, "data/mine"), XS_ERROR);
    ck_error(&r, "EINVAL");
    ck_assert_uint_eq(cli_op(&r, XS_SET_PERMS, 0, 7, "data/mine", gb, "r0", "r0", "r0", "r0",
                             "r0"), XS_ERROR);
    ck_error(&r, "ENOSPC");
    /* Special paths: dom0's. */
    ck_assert_uint_eq(cli_op(&r, XS_SET_PERMS, 0, 2, "@releaseDomain", gb), XS_ERROR);
    ck_error(&r, "EACCES");
    ck_assert_uint_eq(cli_op(&r, XS_SET_PERMS, 0, 2, "@other", gb), XS_ERROR);
    ck_error(&r, "EINVAL");
    /* The toolstack may hand the node to dom0 and back. */
    {
        const char *const p[] = { "n0" };

        ck_assert_int_eq(xf_xsd_set_perms(xsd, H("data/mine"), p, 1), 0);
        ck_assert_int_eq(xf_xsd_set_perms(xsd, H("nope"), p, 1), -ENOENT);
    }
    ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, "data/mine"), XS_ERROR);
    ck_error(&r, "EACCES");
}
END_TEST

START_TEST(invalid_paths)
{
    static const char *const bad[] = {
        "/local//x", "/local/", "data/", "/a b", "/a\x01", "da.ta", "",
    };
    struct reply r;
    char *longp = malloc(4000);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, bad[i]), XS_ERROR);
        ck_error(&r, "EINVAL");
        ck_assert_uint_eq(cli_write(&r, 0, bad[i], "v"), XS_ERROR);
        ck_error(&r, "EINVAL");
    }
    /* Relative paths may be XENSTORE_REL_PATH_MAX long beyond the home. */
    memset(longp, 'a', 4000);
    longp[XENSTORE_REL_PATH_MAX] = 0;
    ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, longp), XS_ERROR);
    ck_error(&r, "ENOENT");
    longp[XENSTORE_REL_PATH_MAX] = 'a';
    longp[XENSTORE_REL_PATH_MAX + 1] = 0;
    ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, longp), XS_ERROR);
    ck_error(&r, "EINVAL");
    /* An absolute path elsewhere: XENSTORE_REL_PATH_MAX in all. */
    longp[0] = '/';
    longp[XENSTORE_REL_PATH_MAX] = 0;
    ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, longp), XS_ERROR);
    ck_error(&r, "EACCES");   /* valid, under dom0's root */
    longp[XENSTORE_REL_PATH_MAX] = 'a';
    ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, longp), XS_ERROR);
    ck_error(&r, "EINVAL");
    free(longp);
    /* No argument at all, or two. */
    {
        uint32_t id = cli_send(XS_READ, 0, NULL, 0);

        cli_reply(id, &r);
        ck_error(&r, "EINVAL");
        id = cli_send(XS_READ, 0, "a\0b", 4);
        cli_reply(id, &r);
        ck_error(&r, "EINVAL");
        id = cli_send(XS_READ, 0, "data", 4);   /* unterminated */
        cli_reply(id, &r);
        ck_error(&r, "EINVAL");
        id = cli_send(XS_WRITE, 0, "data", 4);   /* no NUL at all */
        cli_reply(id, &r);
        ck_error(&r, "EINVAL");
    }
}
END_TEST

START_TEST(domain_path_and_unknown_types)
{
    struct reply r;
    uint32_t id;

    ck_assert_uint_eq(cli_op(&r, XS_GET_DOMAIN_PATH, 0, 1, "7"), XS_GET_DOMAIN_PATH);
    ck_assert_str_eq(r.data, "/local/domain/7");
    ck_assert_uint_eq(r.hdr.len, sizeof("/local/domain/7"));
    ck_assert_uint_eq(cli_op(&r, XS_GET_DOMAIN_PATH, 0, 0), XS_ERROR);
    ck_error(&r, "EINVAL");
    /* Dom0's operations. */
    ck_assert_uint_eq(cli_op(&r, XS_CONTROL, 0, 1, "print"), XS_ERROR);
    ck_error(&r, "EACCES");
    ck_assert_uint_eq(cli_op(&r, XS_INTRODUCE, 0, 3, "3", "4", "5"), XS_ERROR);
    ck_error(&r, "EACCES");
    ck_assert_uint_eq(cli_op(&r, XS_IS_DOMAIN_INTRODUCED, 0, 1, "0"), XS_ERROR);
    ck_error(&r, "EACCES");
    ck_assert_uint_eq(cli_op(&r, XS_SET_TARGET, 0, 2, "1", "2"), XS_ERROR);
    ck_error(&r, "EACCES");
    /* Not requests at all. */
    static const uint32_t nosys[] = { XS_WATCH_EVENT, XS_ERROR, 20, XS_TYPE_COUNT, 999,
                                      XS_INVALID };
    for (size_t i = 0; i < sizeof(nosys) / sizeof(nosys[0]); i++) {
        id = cli_send(nosys[i], 0, "x", 2);
        cli_reply(id, &r);
        ck_error(&r, "ENOSYS");
    }
}
END_TEST

START_TEST(quotas_and_big_values)
{
    struct reply r;
    char *v = malloc(XENSTORE_PAYLOAD_MAX + 2);
    uint32_t id;

    /* A node record of 2048 bytes or more: ENOSPC for a domain. */
    memset(v, 'v', 2100);
    v[2100] = 0;
    ck_assert_uint_eq(cli_write(&r, 0, "data/big", v), XS_ERROR);
    ck_error(&r, "ENOSPC");
    ck_assert(!xf_xsd_exists(xsd, H("data/big")));
    v[2000] = 0;
    ck_assert_uint_eq(cli_write(&r, 0, "data/big", v), XS_WRITE);
    /* 4096 bytes written by the toolstack reach the guest whole... */
    memset(v, 'w', XENSTORE_PAYLOAD_MAX + 1);
    ck_assert_int_eq(xf_xsd_write(xsd, H("data/v4096"), v, XENSTORE_PAYLOAD_MAX), 0);
    ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, "data/v4096"), XS_READ);
    ck_assert_uint_eq(r.hdr.len, XENSTORE_PAYLOAD_MAX);
    ck_assert_mem_eq(r.data, v, XENSTORE_PAYLOAD_MAX);
    /* ...one more byte does not fit a reply. */
    ck_assert_int_eq(xf_xsd_write(xsd, H("data/v4097"), v, XENSTORE_PAYLOAD_MAX + 1), 0);
    ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, "data/v4097"), XS_ERROR);
    ck_error(&r, "E2BIG");
    /* A request of exactly XENSTORE_PAYLOAD_MAX bytes is served. */
    memcpy(v, "data/big", 9);
    id = cli_send(XS_WRITE, 0, v, XENSTORE_PAYLOAD_MAX);
    cli_reply(id, &r);
    ck_error(&r, "ENOSPC");
    ck_assert_uint_eq(xf_xsd_broken(xsd), 0);
    free(v);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("xsd-ops");
    TCase *tc = tcase_create("ops");

    tcase_add_checked_fixture(tc, ops_setup, teardown);
    tcase_add_test(tc, start_features_and_initial_tree);
    tcase_add_test(tc, read_write_absolute_and_relative);
    tcase_add_test(tc, write_creates_parents_with_inherited_perms);
    tcase_add_test(tc, mkdir_and_rm);
    tcase_add_test(tc, directory_in_creation_order);
    tcase_add_test(tc, directory_part_2000_children);
    tcase_add_test(tc, permissions_and_errno_hiding);
    tcase_add_test(tc, invalid_paths);
    tcase_add_test(tc, domain_path_and_unknown_types);
    tcase_add_test(tc, quotas_and_big_values);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return xf_check_run(suite());
}
