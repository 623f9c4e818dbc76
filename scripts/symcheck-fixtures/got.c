/* Fixture for the pick-and-link check: a reference to the linker-defined
 * _GLOBAL_OFFSET_TABLE_, as gcc's default PIC/PIE code makes. Accepted with
 * --hosted; rejected without it (the freestanding flavours). */
extern char _GLOBAL_OFFSET_TABLE_[];
char *xf_fixture_got(void);
char *xf_fixture_got(void) { return _GLOBAL_OFFSET_TABLE_; }
