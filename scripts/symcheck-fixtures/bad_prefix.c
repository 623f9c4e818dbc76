/* Fixture for the pick-and-link check: a global without the library prefix.
 * The check must reject this archive. */
int xf_fixture_ok(void);
int fixture_unprefixed(void);
int xf_fixture_ok(void) { return 1; }
int fixture_unprefixed(void) { return 2; }
