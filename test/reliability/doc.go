// Package reliability is qscan's reliability suite: it crashes the daemon,
// fills its disk, breaks its engines, feeds it hostile input and loads it
// with mail, against the real test stack (scripts/teststack), and appends
// the figures to test/RESULTS.md.
//
// The tests carry the build tag reliability and run with `make reliability`
// (REL_SCALE=full, the default there) or `REL_SCALE=short` for a run of a
// few minutes. They need root: they start the stack, stop and signal clamd
// and spamd, and mount a small tmpfs. QSCAN_STACK_PORTS selects the stack
// instance, as for scripts/teststack.
package reliability
