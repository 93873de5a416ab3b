//go:build e2e && !reliability

package test

// mtaCrashKills is how many times TestPostfixCrash and TestEximCrash kill
// the daemon in the e2e suite (CI).
const mtaCrashKills = 12
