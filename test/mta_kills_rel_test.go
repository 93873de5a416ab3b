//go:build reliability

package test

// mtaCrashKills is how many times TestPostfixCrash and TestEximCrash kill
// the daemon under the reliability tag (make reliability).
const mtaCrashKills = 50
